/**
 * `@steadyfn/state`: typed configuration and reference data loaded once per instance and
 * revalidated in the background, from environment variables, Redis, MongoDB or your own source,
 * and event-sourced state hydrated from a snapshot and the events after it. The S3 sources
 * (`s3Object`, `s3Json`, `s3Ndjson`) and `s3Snapshot` are in their own entry,
 * `@steadyfn/state/s3`, so that a function without S3 bundles without `@aws-sdk/client-s3`.
 *
 * @packageDocumentation
 */
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
// The S3 sources and s3Snapshot are in `@steadyfn/state/s3` (src/s3.ts): they load
// `@aws-sdk/client-s3`, which nothing this entry reaches may do (a bundle without S3 needs no SDK).
export { envVars } from './sources/env.js';
export type { EnvVarsOptions } from './sources/env.js';
export { custom } from './sources/custom.js';
export type { CustomSourceOptions } from './sources/custom.js';

export { hydrate } from './eventsourced/hydrate.js';
export type { HydrateOptions, HydratedVersion } from './eventsourced/hydrate.js';
export { mongoSnapshot } from './eventsourced/snapshots.js';
export type { MongoSnapshotOptions } from './eventsourced/snapshots.js';
export { mongoEvents } from './eventsourced/mongo-events.js';
export type { MongoEventsOptions } from './eventsourced/mongo-events.js';
export { redisStreamEvents } from './eventsourced/redis-stream.js';
export type { RedisStreamEventsOptions, RedisStreamReader } from './eventsourced/redis-stream.js';
export type { Snapshot, SnapshotStore, StoredEvent, EventStore } from './eventsourced/types.js';
