/**
 * Idempotency records on MongoDB and FerretDB: a `@steadyfn/lease` MongoDB-wire store, where
 * every change of a record is an insert of its next generation (a unique `_id`), so exactly
 * one of any number of concurrent claims wins — also on FerretDB 1.24, whose filtered updates
 * are not atomic. See the lease package's README for the layout.
 */
import { checkKnownKeys, invalidOption, keysOf } from '@steadyfn/handler/internal';
import type { CallOptions, MongoLeaseCollection, MongoPurgeOptions, MongoPurgeResult } from '@steadyfn/lease';
import { mongoLeaseStoreOf } from '@steadyfn/lease/internal';
import type { IdempotencyStore } from '../types.js';
import { idempotencyStoreOf } from './lease.js';

/**
 * The largest result a record keeps: a MongoDB document is at most 16 MiB of BSON
 * (https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-BSON-Document-Size; FerretDB
 * the same), and the record's other fields — its key twice (up to 1,024 characters each), owner,
 * fingerprint and dates — take at most a few KiB of it; 64 KiB are left for them.
 */
const MAX_RESULT_BYTES = 16 * 1024 * 1024 - 64 * 1024;

/** Options of `mongoStore()`. */
export interface MongoStoreOptions {
  /**
   * The collection holding records (a driver `Collection`), or a function returning it (e.g. from a
   * cached client). Its client's `promoteValues` / `promoteLongs` do not matter (the store's
   * reads promote numbers). Its write concern must acknowledge writes: `writeConcern: { w: 0 }`
   * is refused at the first call (`ConfigurationError`, field `collection`, terminal).
   * With a function, a claim that failed on the network before it wrote anything runs once
   * more on the function's collection of then (see `mongoLeaseStore`).
   */
  collection: MongoLeaseCollection | (() => MongoLeaseCollection | Promise<MongoLeaseCollection>);
  /**
   * How long a record is kept after it expires before it is deleted (TTL index or `purge()`).
   * Whole milliseconds ≥ 120,000.
   * @default 3_600_000 (1 hour)
   */
  retainMs?: number;
}

/** What `mongoStore()` returns: the store, and the index and cleanup calls a server without TTL indexes needs. */
export interface MongoStore extends IdempotencyStore {
  /**
   * Creates the indexes: on (key, generation), and the TTL index that deletes expired records
   * where the server has TTL indexes. Run once at deploy time. `{ ttl: false }` on servers
   * without them (FerretDB): call `purge()` on a schedule instead.
   */
  ensureIndexes(options?: CallOptions): Promise<{ ttl: boolean }>;
  /**
   * Deletes records that expired more than `retainMs` ago (what the TTL index does on MongoDB),
   * in batches: `batchSize` (default 500, at most 1,000) per delete, at most `maxDeletes`
   * (default 10,000) per call, `more: true` when expired records are left (call it again), and
   * no further batch once `signal` aborts. See `@steadyfn/lease`'s `MongoLeaseStore.purge`.
   * @throws ConfigurationError (`CONFIG_INVALID`, naming `batchSize` or `maxDeletes`) before anything is sent.
   */
  purge(options?: MongoPurgeOptions): Promise<MongoPurgeResult>;
}

/**
 * An idempotency store on MongoDB or FerretDB.
 * @throws ConfigurationError (from `@steadyfn/handler`) for bad options; from the first call, a
 *   collection whose `writeConcern` is `{ w: 0 }` (field `collection`).
 * @example
 * ```ts
 * import { mongoStore } from '@steadyfn/idempotency';
 *
 * // mongo: a connected MongoClient
 * const store = mongoStore({ collection: mongo.db('app').collection('idempotency') });
 * await store.ensureIndexes();
 * ```
 */
export function mongoStore(options: MongoStoreOptions): MongoStore {
  if (typeof options !== 'object' || options === null) invalidOption('mongoStore', 'options', 'an object', options);
  checkKnownKeys('mongoStore', '', options, keysOf<MongoStoreOptions>({ collection: true, retainMs: true }));
  // Built under this factory's name: an option error names mongoStore(), which the user called.
  const lease = mongoLeaseStoreOf('mongoStore', { collection: options.collection, ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }) });
  return {
    ...idempotencyStoreOf(lease),
    maxResultBytes: MAX_RESULT_BYTES,
    ensureIndexes: (callOptions) => lease.ensureIndexes(callOptions),
    purge: (callOptions) => lease.purge(callOptions),
  };
}
