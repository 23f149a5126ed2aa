/**
 * `@steadyfn/lease/internal`: helpers shared with the sibling packages so that none keeps a
 * copy: the background retry of a settle while
 * its lease lasts, the read-back of whether a refused settle was applied before and the cause
 * fields of a failed settle's log line
 * (`@steadyfn/idempotency`, `@steadyfn/outbox`), and the claim-check wire format the outbox and
 * `@steadyfn/backup` both read. Not part of the public API: it may change in any release.
 * Application code should not import it.
 *
 * @packageDocumentation
 */
// S3's conditional PUT and the read that returns S3's clock are in `@steadyfn/lease/internal-s3`:
// they load `@aws-sdk/client-s3`, which no entry a non-S3 function imports may reach.
export { settleLater } from './settle-later.js';
// mongoLeaseStore() / redisLeaseStore() whose option errors name the sibling's factory the user called.
export { mongoLeaseStoreOf } from './stores/mongodb.js';
// The MongoDB store's timing assumptions, for a sibling that must wait out its requests in flight
// (`@steadyfn/backup`'s restore lock drops the lock's collection only past them).
export { DELIVERY_MS, FAST_SETTLE_MS } from './stores/mongodb.js';
// The cause of the store's LEASE_STORE_UNAVAILABLE when its start-up probe found no verdict (the
// collection dropped under each round): backup's restore lock, which drops it, sends the call again.
export { PROBE_NO_VERDICT } from './stores/mongodb-probe.js';
export { redisLeaseStoreOf } from './stores/redis.js';
// What a Redis store tells its sibling to log once (`LEASE_STORE_EVICTS`: the server may evict records).
export { LEASE_STORE_EVICTS, type LeaseStoreNotice } from './stores/redis-eviction.js';
export { purgeBoundsOf } from './stores/mongodb-purge.js';
export { appliedBefore } from './applied-before.js';
// The cause fields of a settle's store-failure log line (idempotency's settle, the outbox's inbox).
export { storeFailureFacts, UNKNOWN_CAUSE_CODE } from './store-failure-facts.js';
// The longest lease or keep time a store accepts: a sibling's options must not take longer ones.
export { MAX_DURATION_MS } from './validate.js';
// When a lease claimed for one invocation ends: its deadline unless `leaseMs` is set (idempotency, the inbox).
export { leaseUntil, NO_DEADLINE_LEASE_MS } from './lease-until.js';
export type { LeaseInvocation, LeaseOwnerNames, LeaseSettings } from './lease-until.js';
export type { SettledRecordLike, SettleRequestLike } from './applied-before.js';
// The claim-check wire format (pointer, size + SHA-256 verify, base64 bodies): one reading for the
// outbox's inbox and `@steadyfn/backup`'s sqsSource, which does not depend on the outbox.
export { CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE, claimCheckMismatch, decodeSqsBody, readClaimCheckPointer, sha256Hex } from './claim-check-pointer.js';
export type { ClaimCheckPointerFields, PointerRead } from './claim-check-pointer.js';
export { readSizedObject, type SizedObject, type SizedObjectSender } from './claim-check-fetch.js';
