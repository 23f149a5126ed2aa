export { defineState } from './cache.js';
export type { SourceMap, SourceValues, StateOf, StateOptions, StateCallContext, StateStatus, StateCache } from './cache.js';
export { StateError, SourceError } from './errors.js';
export type { StateIssue } from './errors.js';
export type { StateSource, Loaded, Known, SourceValue, ClientInput, DeepReadonly } from './types.js';
export { state } from './plugin.js';
export type { StatePluginOptions } from './plugin.js';

export { mongoDocument, mongoQuery } from './sources/mongo.js';
export type { MongoDocumentOptions, MongoQueryOptions, MongoTarget, MongoVersionDocument, MongoClientLike, MongoCollectionLike } from './sources/mongo.js';
export { redisKey, redisHash } from './sources/redis.js';
export type { RedisKeyOptions, RedisHashOptions, RedisReader } from './sources/redis.js';
export { s3Object, s3Json, s3Ndjson } from './sources/s3.js';
export type { S3ObjectOptions, S3SourceOptions, S3Sender } from './sources/s3.js';
export { envVars } from './sources/env.js';
export type { EnvVarsOptions } from './sources/env.js';
export { custom } from './sources/custom.js';
export type { CustomSourceOptions } from './sources/custom.js';

export { hydrate } from './eventsourced/hydrate.js';
export type { HydrateOptions, HydratedVersion } from './eventsourced/hydrate.js';
export { s3Snapshot, mongoSnapshot } from './eventsourced/snapshots.js';
export type { S3SnapshotOptions, MongoSnapshotOptions } from './eventsourced/snapshots.js';
export { mongoEvents } from './eventsourced/mongo-events.js';
export type { MongoEventsOptions } from './eventsourced/mongo-events.js';
export { redisStreamEvents } from './eventsourced/redis-stream.js';
export type { RedisStreamEventsOptions, RedisStreamReader } from './eventsourced/redis-stream.js';
export type { Snapshot, SnapshotStore, StoredEvent, EventStore } from './eventsourced/types.js';
