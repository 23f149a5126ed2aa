/**
 * The lease primitive's one interface and its records: claim a key with an owner token and a
 * lease, renew or settle it only while still its owner, read it.
 *
 * Every change of a key (a claim, a takeover, a renewal, a settle) makes a new generation; a claim returns
 * its generation as the fencing token (`fence`), and a settle names the generation it settles,
 * so a holder whose lease was taken over can no longer settle (M. Kleppmann, "How to do
 * distributed locking", 2016: fencing tokens).
 */

/** Options every store call takes. */
export interface CallOptions {
  /**
   * Gives up when it aborts: the call rejects with `signal.reason` (e.g. the handler's
   * `DeadlineExceededError`). A request already sent may still take effect on the server, so
   * after an abort the outcome is unknown: a claim may hold the key until its lease ends.
   */
  signal?: AbortSignal;
}

/** A claim: take `key` for `owner` for `leaseMs`, unless someone holds it or it is done. */
export interface ClaimRequest {
  /** The record's name. 1–1,024 characters, no NUL, no unpaired surrogates (well-formed Unicode). */
  key: string;
  /**
   * A token naming this attempt, unique per claim (e.g. `crypto.randomUUID()`, a fresh one for
   * each attempt, a retry after `claimed: false` included); only its holder can settle. 1–128
   * printable ASCII characters, no `|` and no space. The Redis store answers a claim that finds
   * the key held, live, by this token with this `data` as the claim's own (its first run's reply
   * lost and the command resent by ioredis): `claimed: true` with that generation's fence and
   * lease — so a token reused across attempts with the same `data` would be read as one claim.
   */
  owner: string;
  /** How long the claim holds the key, judged by the store's clock. Whole milliseconds ≥ 1. */
  leaseMs: number;
  /** Opaque text kept while the key is held (e.g. a payload fingerprint), returned to rivals. */
  data?: string;
}

/** A key that someone holds (a live lease). */
export interface HeldRecord {
  state: 'held';
  /** The generation the holder settles; strictly increases across claims of the key. */
  fence: number;
  /** The holder's owner token. */
  owner: string;
  /** Epoch ms (this process's clock, converted from the store's) when the lease ends. */
  expiresAt: number;
  /** The holder's `data`, when it gave one. */
  data?: string;
}

/** A key settled with data: done, kept until `expiresAt`. */
export interface DoneRecord {
  state: 'done';
  /** The generation the settle made. */
  fence: number;
  /** Epoch ms (this process's clock, converted from the store's) when the record is forgotten. */
  expiresAt: number;
  /** What the settle stored. */
  data: string;
}

/** A live record. Released and expired records read as absent. */
export type LeaseRecord = HeldRecord | DoneRecord;

/**
 * `claimed: true`: the caller holds the key until `expiresAt` and settles it with `fence`.
 * Otherwise the live record that stopped the claim.
 */
export type ClaimResult = { claimed: true; fence: number; expiresAt: number } | { claimed: false; record: LeaseRecord };

/**
 * A settle: with `data`, the key becomes done and is kept `keepMs`; without, it is released
 * and the next claim takes it at once.
 */
export interface SettleRequest {
  key: string;
  /** The owner token the claim was made with. */
  owner: string;
  /** The fence the claim returned. */
  fence: number;
  /** What a done record keeps; absent to release. */
  data?: string;
  /** How long a done record is kept (store's clock). Whole milliseconds ≥ 1; required with `data`. */
  keepMs?: number;
}

/**
 * A renewal: the holder of generation `fence` extends its lease to `leaseMs` from now (the
 * store's clock), keeping its `data`. Long jobs renew before their lease runs out.
 */
export interface RenewRequest {
  key: string;
  /** The owner token the claim was made with. */
  owner: string;
  /** The fence the claim (or the last renewal) returned. */
  fence: number;
  /** The new lease, from now. Whole milliseconds ≥ 1. */
  leaseMs: number;
}

/**
 * `renewed: true`: the caller still holds the key, now until `expiresAt` (this process's
 * clock), as generation `fence`: a renewal is a change of the key like any other, so the fence
 * grows (use the new one for the next renewal or the settle). `renewed: false`: the caller no
 * longer holds generation `fence` (taken over, settled, released, or forgotten).
 */
export type RenewResult = { renewed: true; fence: number; expiresAt: number } | { renewed: false };

/**
 * The primitive every store implements.
 *
 * **A claim or claimMany that throws holds nothing it wrote.** A claim can fail after the store
 * applied it (its reply lost with the connection, a cluster slot's call failed, an abort); before
 * it throws, the store gives back every key still held by the request's `owner` with its `data`
 * (released, as its holder's settle would), so the next claim takes the key at once. If the
 * give-back itself cannot reach the store (it tries for up to 2 s), the records stay held until
 * their lease ends — never longer. Owner tokens are one per claim attempt, so no one else's
 * record is touched. (The S3 store gives back a key only where its object is exactly the body
 * the failed claim sent — that owner token, generation and expiry — by writing the next
 * generation, released, with `If-Match`.) A claim that provably never reached the store (see
 * each store) wrote nothing: it throws at once.
 */
export interface LeaseStore<Options extends CallOptions = CallOptions> {
  /**
   * Takes the key if nobody holds it and it is not done (absent, released, or its lease or
   * keep time has run out), in one atomic step per key.
   * @throws LeaseRequestError for a malformed request; `LeaseStoreUnavailableError` (code
   *   `LEASE_STORE_UNAVAILABLE`) when the store cannot be reached, its reply lost included;
   *   `signal.reason` on an abort. A claim that throws holds nothing it wrote (see above).
   */
  claim(request: ClaimRequest, options?: Options): Promise<ClaimResult>;
  /**
   * `claim` for several distinct keys, batched (per Redis Cluster slot, one read and one
   * write round for MongoDB); one result per request, in order. Each key is decided on its own.
   * @throws as `claim`; a batch that throws holds none of its keys (on Redis Cluster, the other
   *   slots' calls are waited for and what they claimed is given back too), within the same
   *   bound: what cannot be given back ends with its lease.
   */
  claimMany(requests: ReadonlyArray<ClaimRequest>, options?: Options): Promise<ClaimResult[]>;
  /**
   * Settles the key if `owner` still holds generation `fence` of it (nobody took it over,
   * settled or released it since; a lease that ran out without a takeover can still be
   * settled). `true` if it did — also for a settle sent again after its first send was applied
   * and its reply lost: a key that already is generation `fence + 1`, done with this `data` (or
   * released, without), settled by the same `owner`, answers `true` and nothing is written
   * (Redis: while `retainMs` > 0; a Redis value settled before settled values kept their owner
   * is judged by generation and `data` alone).
   * @throws LeaseRequestError for a malformed request; `LeaseStoreUnavailableError` when the
   *   store cannot be reached — the settle may have been applied: send it again, or `get` the key.
   */
  settle(request: SettleRequest, options?: Options): Promise<boolean>;
  /**
   * `settle` for several distinct keys, batched; one boolean per request, in order.
   * @throws as `settle`. A call that throws has finished every write it started (each cluster
   *   slot's, each S3 key's): the keys it settled are settled, and the batch sent again answers
   *   `true` for them.
   */
  settleMany(requests: ReadonlyArray<SettleRequest>, options?: Options): Promise<boolean[]>;
  /**
   * Extends the lease if `owner` still holds generation `fence` (under the same rule as
   * `settle`: a lease that ran out without a takeover can still be renewed), in one atomic
   * step. The lease then ends `leaseMs` after the call was sent, or later. A renewal applied
   * whose reply was lost and that the driver sent again (ioredis's default on Redis) meets its
   * own spent fence and answers `renewed: false`; the key then reads as held by `owner` at the
   * next fence — `get` it before giving the work up.
   */
  renew(request: RenewRequest, options?: Options): Promise<RenewResult>;
  /** The live record of `key`, or `undefined` when there is none (absent, released, expired). */
  get(key: string, options?: Options): Promise<LeaseRecord | undefined>;
}
