// Baseline types (see redis.ts in this folder).
/**
 * The one small interface every store implements, and the records it keeps.
 *
 * Keys reach a store already namespaced and hashed, as `<scope>:<id>` where both parts are
 * base64url (scope names the function; see `hashTag` on the Redis store). Owners and
 * fingerprints are base64url too. Results are opaque strings the plugin encodes.
 */

/** A record that still holds a live lease: some invocation is running the function. */
export interface InProgressRecord {
  status: 'in_progress';
  fingerprint: string;
  /** Epoch ms when the lease ends and another attempt may take over. */
  leaseUntil: number;
}

/** A finished invocation whose result later duplicates replay. */
export interface CompletedRecord {
  status: 'completed';
  fingerprint: string;
  /** The encoded result (see `record.ts`). */
  result: string;
  /** Epoch ms when the record is forgotten. */
  expiresAt: number;
}

export type StoredRecord = InProgressRecord | CompletedRecord;

export interface ClaimRequest {
  key: string;
  /** A random token naming this attempt; only its holder may complete or release the record. */
  owner: string;
  fingerprint: string;
  /** Epoch ms; the record is treated as absent after this unless completed. */
  leaseUntil: number;
}

/** `claimed: true` means the caller now holds the lease; otherwise the live record found. */
export type ClaimResult = { claimed: true } | { claimed: false; record: StoredRecord };

export interface CompleteRequest {
  key: string;
  owner: string;
  fingerprint: string;
  result: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface ReleaseRequest {
  key: string;
  owner: string;
}

export interface IdempotencyStore {
  /**
   * Writes an in-progress record unless a live one exists, and returns the live one if so,
   * in one round trip. Expired records (lease or TTL passed) count as absent.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** `claim` for several distinct keys in one round trip (per Redis Cluster slot). */
  claimMany(requests: ReadonlyArray<ClaimRequest>): Promise<ClaimResult[]>;
  /** Stores the result if `owner` still holds the record; false if it does not (lease lost). */
  complete(request: CompleteRequest): Promise<boolean>;
  /** Deletes the record if `owner` still holds it, so a retry runs again; false otherwise. */
  release(request: ReleaseRequest): Promise<boolean>;
  /**
   * Completes (items with a `result`) and releases (items without) several records in one
   * round trip; one boolean per item, as `complete`/`release` would return.
   */
  completeMany(requests: ReadonlyArray<CompleteRequest | ReleaseRequest>): Promise<boolean[]>;
  /** The live record, or undefined when there is none or it has expired. */
  get(key: string): Promise<StoredRecord | undefined>;
}

export function isCompleteRequest(request: CompleteRequest | ReleaseRequest): request is CompleteRequest {
  return typeof (request as CompleteRequest).result === 'string';
}
