/**
 * The one small interface every idempotency store implements, and the records it keeps. The
 * stores in `stores/` are `@steadyfn/lease` stores seen through this interface.
 *
 * Keys reach a store already namespaced and hashed, as `<scope>:<id>` where both parts are
 * base64url (scope names the function; see `hashTag` on the Redis store). Fingerprints are
 * base64url too. Results are opaque strings the plugin encodes.
 */
import type { LeaseStore, SettleRequest } from '@steadyfn/lease';

/** Options every store call takes. */
export interface StoreCallOptions {
  /** Gives up when it aborts (rejecting with `signal.reason`); the plugin passes `ctx.signal`. */
  signal?: AbortSignal;
}

/** A record that still holds a live lease: some invocation is running the function. */
export interface InProgressRecord {
  /** The function is running: a duplicate waits (`onConcurrent: 'wait'`) or gets a 409. */
  status: 'in_progress';
  /** `canonicalHash` of the request that claimed the key; another payload under it is a 422. */
  fingerprint: string;
  /** Epoch ms when the lease ends and another attempt may take over. */
  leaseUntil: number;
}

/** A finished invocation whose result later duplicates replay. */
export interface CompletedRecord {
  /** The function finished: a duplicate gets `result` replayed. */
  status: 'completed';
  /** `canonicalHash` of the request that completed the key. */
  fingerprint: string;
  /** The encoded result (see `record.ts`). */
  result: string;
  /** Epoch ms when the record is forgotten. */
  expiresAt: number;
}

/** What `claim` and `get` report about a key that has a live record: running, or done. */
export type StoredRecord = InProgressRecord | CompletedRecord;

/** An attempt to take the record of `key` for one invocation (see `IdempotencyStore.claim`). */
export interface ClaimRequest {
  /** The store key: `<scope>:<id>`, namespaced and hashed by the plugin. */
  key: string;
  /** A random token naming this attempt; only its holder may complete or release the record. */
  owner: string;
  /** What a repeat of the key must match (base64url); another payload under the same key is a 422. */
  fingerprint: string;
  /** Epoch ms; the record is treated as absent after this unless completed. */
  leaseUntil: number;
}

/**
 * `claimed: true` means the caller now holds the lease, at generation `fence` (the lease
 * primitive's fencing token; pass it back on complete/release to spare the store a lookup);
 * otherwise the live record found.
 */
export type ClaimResult = { claimed: true; fence?: number } | { claimed: false; record: StoredRecord };

/** Stores an invocation's encoded result under the record its owner holds (see `IdempotencyStore.complete`). */
export interface CompleteRequest {
  /** The store key the claim used. */
  key: string;
  /** The owner token the claim used. */
  owner: string;
  /** The fence the claim returned, when the caller kept it. */
  fence?: number;
  /** The claim's fingerprint, kept with the result. */
  fingerprint: string;
  /** The encoded result duplicates replay (opaque to the store). */
  result: string;
  /** Epoch ms when the completed record is forgotten (now + `ttlMs`). */
  expiresAt: number;
}

/** Gives a held record up so the next attempt runs the function (see `IdempotencyStore.release`). */
export interface ReleaseRequest {
  /** The store key the claim used. */
  key: string;
  /** The owner token the claim used. */
  owner: string;
  /** The fence the claim returned, when the caller kept it. */
  fence?: number;
}

/**
 * Where idempotency records live: Redis, Redis Cluster, MongoDB (FerretDB included) or memory
 * (`redisStore`, `mongoStore`, `memoryStore`). Each call may take `{ signal }` and gives up when
 * it aborts. Implement it only to bring another database; the records' rules (one owner, a
 * lease, completion only by the owner) are the `@steadyfn/lease` primitive's.
 */
export interface IdempotencyStore {
  /**
   * Writes an in-progress record unless a live one exists, and returns the live one if so,
   * in one atomic step. Expired records (lease or TTL passed) count as absent.
   */
  claim(request: ClaimRequest, options?: StoreCallOptions): Promise<ClaimResult>;
  /** `claim` for several distinct keys in one round trip (per Redis Cluster slot). */
  claimMany(requests: ReadonlyArray<ClaimRequest>, options?: StoreCallOptions): Promise<ClaimResult[]>;
  /** Stores the result if `owner` still holds the record; false if it does not (lease taken over). */
  complete(request: CompleteRequest, options?: StoreCallOptions): Promise<boolean>;
  /** Gives the record up if `owner` still holds it, so a retry runs again; false otherwise. */
  release(request: ReleaseRequest, options?: StoreCallOptions): Promise<boolean>;
  /**
   * Completes (items with a `result`) and releases (items without) several records in one
   * round trip; one boolean per item, as `complete`/`release` would return.
   */
  completeMany(requests: ReadonlyArray<CompleteRequest | ReleaseRequest>, options?: StoreCallOptions): Promise<boolean[]>;
  /** The live record, or undefined when there is none or it has expired. */
  get(key: string, options?: StoreCallOptions): Promise<StoredRecord | undefined>;
  /**
   * `complete(request)` as the `@steadyfn/lease` settle it is, for a write that settles the
   * record inside its own atomic step (a Redis script with the lease's settle fragment, a
   * MongoDB transaction's session). Undefined when this process does not know the claim's
   * fence (then complete it the ordinary way). Optional: the stores of this package have it.
   */
  joinable?(request: CompleteRequest): JoinableSettle | undefined;
  /**
   * The largest encoded result (`CompleteRequest.result`, UTF-8 bytes) a record can keep, when
   * the store has a limit below what a function can return: the plugin releases the record of a
   * larger result (warning `IDEMPOTENCY_RESULT_NOT_STORABLE`) instead of sending a completion
   * the store must refuse. `mongoStore` sets it (a document is at most 16 MiB of BSON);
   * undefined: no limit checked.
   */
  readonly maxResultBytes?: number;
}

/** A completion as a lease settle, ready to be included in another write. */
export interface JoinableSettle {
  /** The lease store the record lives in (`redisLeaseStore`, `mongoLeaseStore`, memory). */
  lease: LeaseStore;
  /** The settle that completes the record (its key as the lease store names it). */
  settle: SettleRequest;
  /** Call after the write that carried `settle` committed: the store forgets the claim. */
  settled(): void;
}

/** Whether a settle item completes (it carries a result) rather than releases. */
export function isCompleteRequest(request: CompleteRequest | ReleaseRequest): request is CompleteRequest {
  return typeof (request as CompleteRequest).result === 'string';
}
