/**
 * `@steadyfn/lease`: one owner + lease + fencing-token primitive — claim a key with an owner
 * token and a lease, renew or settle it only while still its owner, read it — on Redis, Redis
 * Cluster, MongoDB-wire servers (FerretDB included) and S3, with a memory store for tests.
 * The S3 store is in its own entry, `@steadyfn/lease/s3`, so that nothing this entry reaches
 * loads `@aws-sdk/client-s3`: a bundle of a function without S3 needs no S3 SDK.
 *
 * @packageDocumentation
 */
export type { CallOptions, ClaimRequest, ClaimResult, DoneRecord, HeldRecord, LeaseRecord, LeaseStore, RenewRequest, RenewResult, SettleRequest } from './types.js';
export { LeaseRecordUnreadableError, LeaseRequestError, LeaseStoreUnavailableError, LeaseStoreUnsupportedError } from './errors.js';
export { isInProcessLeaseStore, memoryLeaseStore } from './stores/memory.js';
export type { MemoryLeaseStore, MemoryLeaseStoreOptions } from './stores/memory.js';
export { redisLeaseStore } from './stores/redis.js';
export { luaScript, runLuaScript } from './stores/redis-eval.js';
export type { LuaScript, LuaScriptClient } from './stores/redis-eval.js';
export type { RedisLeaseClient, RedisLeaseStore, RedisLeaseStoreOptions, RedisSettleCall, RedisSettleFragment } from './stores/redis.js';
export { mongoLeaseStore } from './stores/mongodb.js';
export type { MongoCallOptions, MongoLeaseCollection, MongoLeaseSession, MongoLeaseStore, MongoLeaseStoreOptions, MongoProbeResult } from './stores/mongodb.js';
export type { MongoPurgeOptions, MongoPurgeResult } from './stores/mongodb-purge.js';
