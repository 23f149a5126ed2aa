export { idempotency } from './plugin.js';
export { pendingCompletion, heldIdempotencyKey, RequestAlreadyAppliedError, isRequestAlreadyApplied } from './join.js';
export type { PendingCompletion } from './join.js';
export type { IdempotencyOptions, IdempotencyState, LocalCacheOptions } from './plugin.js';
export {
  IdempotencyInProgressError,
  IdempotencyInputUnhashableError,
  IdempotencyKeyAmbiguousError,
  IdempotencyKeyInvalidError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReusedError,
  IdempotencyRecordCorruptError,
  IdempotencyScopeInvalidError,
  IdempotencyStoreUnavailableError,
} from './errors.js';
export { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKeyHeader, storeKey, scopeOf, principalScope, namedScope, messageBodyHash } from './key.js';
export type { KeyFunction, KeySource, KeyKind, ResolvedKey, HeaderParse, ScopeSource } from './key.js';
export { canonicalHash } from './fingerprint.js';
export { isReusablePosition, positionKey, recordTime } from './stream-position.js';
export type { ReusablePositionTrigger } from './stream-position.js';
export { REPLAYED_HEADER } from './record.js';
export { redisStore } from './stores/redis.js';
export type { RedisStoreOptions } from './stores/redis.js';
export { mongoStore } from './stores/mongodb.js';
export type { MongoStore, MongoStoreOptions } from './stores/mongodb.js';
export type { MongoLeaseCollection, RedisLeaseClient } from '@steadyfn/lease';
export { memoryStore } from './stores/memory.js';
export type { MemoryStore } from './stores/memory.js';
export type {
  IdempotencyStore,
  StoredRecord,
  InProgressRecord,
  CompletedRecord,
  ClaimRequest,
  ClaimResult,
  CompleteRequest,
  ReleaseRequest,
  StoreCallOptions,
  JoinableSettle,
} from './types.js';
