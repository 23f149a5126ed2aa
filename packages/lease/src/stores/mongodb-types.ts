/**
 * The public shapes of the MongoDB-wire lease store (`mongoLeaseStore`, mongodb.ts): its
 * options, its call options, and the store with its MongoDB-only calls.
 */
import type { CallOptions, LeaseStore } from '../types.js';
import type { MongoLeaseCollection, MongoLeaseSession } from './mongodb-docs.js';
import type { ProbeResult } from './mongodb-probe.js';
import type { MongoPurgeOptions, MongoPurgeResult } from './mongodb-purge.js';

/** Options of every MongoDB store call. */
export interface MongoCallOptions extends CallOptions {
  /**
   * A driver `ClientSession`: the reads and inserts join its transaction, so a settle commits
   * or aborts with the caller's own writes. A settle that loses inside a transaction returns
   * `false` after the server has aborted the transaction: abort it (throw). Needs a replica set.
   */
  session?: MongoLeaseSession;
}

/** Options of `mongoLeaseStore`. */
export interface MongoLeaseStoreOptions {
  /**
   * The collection holding leases (a driver `Collection`), or a function returning it (e.g. from a
   * cached client). Its client's `promoteValues` / `promoteLongs` do not matter (the store's
   * reads promote numbers). Its write concern must acknowledge writes: `writeConcern: { w: 0 }`
   * is refused at the first call (`ConfigurationError`, field `collection`, terminal).
   * With a function, a claim outside a session that failed on the network before it sent any
   * insert (it wrote nothing; not a server selection that timed out) runs once more, one
   * event-loop turn later, on the function's collection of then, under the same signal.
   */
  collection: MongoLeaseCollection | (() => MongoLeaseCollection | Promise<MongoLeaseCollection>);
  /**
   * How long a record is kept after its lease or keep time ends: its generation (the fence) is
   * remembered that long, and then the TTL index (`ensureIndexes`) or `purge()` deletes it.
   * Whole milliseconds ≥ 120,000.
   * @default 3_600_000 (1 hour)
   */
  retainMs?: number;
  /**
   * How a key is read. `'by-id'`: `_id` lookups walking up from the last generation seen,
   * a query only when they cannot settle it — FerretDB 1.24 scans the collection for any other
   * query. `'query'`: one `find({ k })` (indexed on MongoDB). `'auto'`: `'by-id'` on FerretDB,
   * `'query'` elsewhere. Both are correct on every server; only the cost differs.
   * @default 'auto'
   */
  reads?: 'auto' | 'by-id' | 'query';
}

/** What `probe()` found. */
export interface MongoProbeResult extends ProbeResult {
  /** Leases are judged by the server's clock (from `hello`); false: this process's clock. */
  serverClock: boolean;
}

/**
 * A lease store on a MongoDB-wire server.
 * @throws LeaseStoreUnavailableError (`LEASE_STORE_UNAVAILABLE`, 503, retryable) from every call
 *   when the server cannot be reached (driver network, server-selection or pool errors, a refused
 *   or reset socket, a `MongoBulkWriteError` wrapped around one; the driver's error is the
 *   `cause`). A `claim` or `claimMany` that throws holds no key: it first releases what its owner
 *   holds of what it claimed or sent (what it cannot reach ends with its lease). Other errors
 *   pass through unchanged. `LeaseRecordUnreadableError` (`collection`) from a claim, settle or
 *   renewal that meets a document the store did not write, its key's next generation `_id`
 *   (`<key>#<g>`) taken by one included.
 */
export interface MongoLeaseStore extends LeaseStore<MongoCallOptions> {
  /**
   * The most `data` a claim or settle may carry, in UTF-8 bytes: 16 MiB less 16 KiB, what one
   * document (at most 16 MiB of BSON on MongoDB) leaves beside the key, owner and dates. More is
   * refused before anything is sent (`LeaseRequestError` naming `request.data`).
   */
  readonly maxDataBytes: number;
  /**
   * Creates the index on (key, generation) and, where the server has TTL indexes, the TTL
   * index that deletes records `retainMs` after they end. Run once at deploy time.
   * `{ ttl: false }` on servers without TTL indexes (FerretDB): call `purge()` on a schedule.
   * @throws ConfigurationError when a TTL index with another `retainMs` exists.
   */
  ensureIndexes(options?: CallOptions): Promise<{ ttl: boolean }>;
  /**
   * Checks the server once (runs by itself before the first call): an insert of an existing
   * `_id` must fail as a duplicate key, also 8 at once.
   * @throws LeaseStoreUnsupportedError when the server does not enforce a unique `_id`.
   */
  probe(options?: CallOptions): Promise<MongoProbeResult>;
  /**
   * Deletes records that ended more than `retainMs` ago (what the TTL index does on MongoDB):
   * for servers without TTL indexes. Bounded: it reads up to `batchSize` `_id`s of expired
   * records, deletes them, and repeats, stopping after `maxDeletes` (`more: true` when expired
   * records are left: a schedule calls it again) and before the next batch once `signal`
   * aborts. Only generations whose `p` is older than the server's time less its clock
   * uncertainty and `retainMs` are deleted. On FerretDB 1.24 no index serves the read (it does
   * not push a range filter down; there is no index on `p` there): each batch scans the
   * collection, a shorter hold than one delete of everything.
   * @returns how many records it deleted, and whether expired ones are left.
   * @throws ConfigurationError (`CONFIG_INVALID`, naming `batchSize` or `maxDeletes`) before anything is sent.
   * @example
   * ```ts
   * // a schedule on FerretDB
   * const { deleted, more } = await leases.purge({ batchSize: 500, maxDeletes: 10_000, signal: ctx.signal });
   * ```
   */
  purge(options?: MongoPurgeOptions): Promise<MongoPurgeResult>;
}
