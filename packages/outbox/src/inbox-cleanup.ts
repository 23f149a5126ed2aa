/**
 * `inboxCleanup()`: the schedule's sweep of an inbox's expired records on a server without TTL
 * indexes (FerretDB), through the store's own `purge()`.
 */
import { checkKnownKeys, invalidOption, isRecord, keysOf } from '@steadyfn/handler/internal';
import { purgeBoundsOf } from '@steadyfn/lease/internal';

/** Options of `inboxCleanup`. */
export interface InboxCleanupOptions {
  /**
   * The inbox's `mongoStore(...)`: its `purge()` deletes the records that ended more than its
   * `retainMs` ago (what the TTL index does where the server has one).
   */
  store: { purge(options?: { signal?: AbortSignal; batchSize?: number; maxDeletes?: number }): Promise<{ deleted: number }> };
  /** Aborts the sweep (pass `ctx.signal`): no further batch is deleted once it aborts. */
  signal?: AbortSignal;
  /**
   * How many records one delete removes (the store reads that many expired `_id`s, then
   * deletes them): no single write holds the server longer. Integer from 1 to 1,000.
   * @default 500
   * @example inboxCleanup({ store, batchSize: 100 })
   */
  batchSize?: number;
  /**
   * The most records one call deletes; the rest are left to the schedule's next run.
   * Integer ≥ 1.
   * @default 10_000
   * @example inboxCleanup({ store, maxDeletes: 2_000, signal: ctx.signal })
   */
  maxDeletes?: number;
}

/**
 * The cleanup sweep for an inbox on a server without TTL indexes (FerretDB): run it from a
 * schedule. It is the store's own `purge()` — the records are `@steadyfn/lease` generations,
 * which only the lease store may judge purgeable. Servers with TTL indexes (MongoDB, after
 * `mongoStore(...).ensureIndexes()`) and Redis expire records themselves. Bounded: it deletes
 * `batchSize` records per delete and at most `maxDeletes` per call, so a backlog is worked
 * off over several runs of the schedule rather than by one long delete.
 *
 * @returns how many records were deleted (at most `maxDeletes`). Whether expired records are
 *   left (it stopped at `maxDeletes`) is what the store's own `purge()` answers as `more`: call
 *   `store.purge({ batchSize, maxDeletes, signal })` instead when the caller needs it.
 * @throws ConfigurationError when `store` is not a store with `purge()` (a `mongoStore`), for
 *   a `batchSize` or `maxDeletes` out of range, or for an unknown option key.
 */
export async function inboxCleanup(options: InboxCleanupOptions): Promise<number> {
  if (!isRecord(options)) invalidOption('inboxCleanup', 'options', 'an object { store }', options);
  const store = options.store as unknown as Record<string, unknown> | undefined;
  if (!isRecord(store) || typeof store.purge !== 'function') {
    invalidOption('inboxCleanup', 'store', "the inbox's mongoStore(...) (its purge() deletes expired records)", options.store);
  }
  // After the store: the likeliest stray key is the old `collection`, which the store message explains.
  checkKnownKeys('inboxCleanup', '', options, keysOf<InboxCleanupOptions>({ store: true, signal: true, batchSize: true, maxDeletes: true }));
  const bounds = purgeBoundsOf('inboxCleanup', { batchSize: options.batchSize, maxDeletes: options.maxDeletes });
  return (await options.store.purge({ ...bounds, ...(options.signal === undefined ? {} : { signal: options.signal }) })).deleted;
}
