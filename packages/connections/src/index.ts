export { defineClient, forget } from './handle.js';
export type { AcquireState, BudgetOptions, BudgetReading, ClientHandle, ClientSpec, ClientStats, Lease, RunOptions } from './handle.js';
export { connections } from './plugin.js';
export type { ConnectionsPluginOptions, ConnectionsRecord, ContextValueOf } from './plugin.js';
export type { UseRecord } from './records.js';
export { closeAll } from './registry.js';
export { closeOnSigterm } from './shutdown.js';
export type { SigtermOptions } from './shutdown.js';
export { boundedRetryStrategy, detectPlatform, profileFor, reconnectOnReadonly } from './profiles.js';
export type { MongoProfile, Profile, RedisProfile } from './profiles.js';
export {
  ConnectionBudgetError,
  ConnectionLostError,
  ConnectionUnavailableError,
  isConnectionError,
  wasNotSent,
} from './errors.js';
export { READ_ONLY_COMMANDS, commandView } from './view.js';
export { redis } from './clients/redis.js';
export type { RedisClientOptions, RedisHandle } from './clients/redis.js';
export { redisCluster } from './clients/redis-cluster.js';
export type { RedisClusterClientOptions, RedisClusterHandle } from './clients/redis-cluster.js';
export { mongo } from './clients/mongo.js';
export type { MongoClientHandleOptions, MongoConnection, MongoHandle } from './clients/mongo.js';
export { s3 } from './clients/s3.js';
export type { S3Handle, S3HandleOptions } from './clients/s3.js';
export { sqs } from './clients/sqs.js';
export type { SqsHandle, SqsHandleOptions } from './clients/sqs.js';
export type { HandleOptions } from './clients/options.js';
