/**
 * The MongoDB-wire store's `purge()`, bounded: instead of one `deleteMany` over every expired
 * record (one long write holding the server; on FerretDB 1.24 a collection scan under SQLite's
 * lock), it reads up to `batchSize` `_id`s of purgeable generations, deletes those (re-checking
 * their `p`), and repeats, up to `maxDeletes` per call. A schedule calls it again while `more`.
 */
import { checkKnownKeys, intOption, invalidOption, keysOf, raceSignal as abortable, throwIfAborted } from '@steadyfn/handler/internal';
import type { CallOptions } from '../types.js';
import type { MongoLeaseCollection } from './mongodb-docs.js';

/** Options of `purge()`: how much one call deletes. */
export interface MongoPurgeOptions extends CallOptions {
  /**
   * How many records one delete removes: each round reads this many `_id`s of expired records
   * and deletes them, so no single write runs longer than that. Integer from 1 to 1,000.
   * @default 500
   * @example { batchSize: 100 } // shorter writes on a busy FerretDB
   */
  batchSize?: number;
  /**
   * The most records one call deletes; the rest wait for the next call (`more: true`).
   * Integer ≥ 1.
   * @default 10_000
   * @example { maxDeletes: 2_000 } // a schedule every minute, each run short
   */
  maxDeletes?: number;
}

/** What `purge()` did. */
export interface MongoPurgeResult {
  /** How many records this call deleted. */
  deleted: number;
  /** True when it stopped at `maxDeletes` with expired records left: call it again. */
  more: boolean;
}

/** The bounds of a purge, validated (`owner` names the function the user called). */
export interface PurgeBounds {
  batchSize: number;
  maxDeletes: number;
}

/**
 * Checks `purge()`'s options before anything is sent.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming `batchSize` or `maxDeletes` (or an unknown key).
 */
export function purgeBoundsOf(owner: string, options: unknown): PurgeBounds {
  if (options === undefined) return { batchSize: DEFAULT_BATCH, maxDeletes: DEFAULT_MAX_DELETES };
  if (typeof options !== 'object' || options === null) invalidOption(owner, 'options', 'an object', options);
  const known = keysOf<MongoPurgeOptions>({ signal: true, batchSize: true, maxDeletes: true });
  checkKnownKeys(owner, '', options, known);
  const o = options as MongoPurgeOptions;
  return {
    batchSize: intOption(owner, 'batchSize', o.batchSize, DEFAULT_BATCH, 1, MAX_BATCH),
    maxDeletes: intOption(owner, 'maxDeletes', o.maxDeletes, DEFAULT_MAX_DELETES, 1),
  };
}

const DEFAULT_BATCH = 500;
/** An `$in` of 1,000 `_id`s of at most ~3 KiB each stays far below a command's 16 MiB. */
const MAX_BATCH = 1_000;
const DEFAULT_MAX_DELETES = 10_000;

/**
 * Deletes generations whose `p` is before `cutoff`, `batchSize` at a time, at most `maxDeletes`;
 * checks `signal` between batches (an abort rejects with its reason; the batches before it stay deleted).
 */
export async function purgeInBatches(col: MongoLeaseCollection, cutoff: Date, bounds: PurgeBounds, signal: AbortSignal | undefined): Promise<MongoPurgeResult> {
  let deleted = 0;
  // Counted by `_id`s sent, not by `deletedCount`: the rounds stay bounded whatever the server reports.
  let sent = 0;
  for (;;) {
    throwIfAborted(signal);
    const limit = Math.min(bounds.batchSize, bounds.maxDeletes - sent);
    // One more than the batch: whether any would be left after it.
    const found = (await abortable(col.find({ p: { $lt: cutoff } }, { projection: { _id: 1 }, limit: limit + 1 }).toArray(), signal)) as Array<{ _id: string }>;
    const ids = found.slice(0, limit).map((doc) => doc._id);
    if (ids.length === 0) return { deleted, more: false };
    // `p` again: an `_id` deleted meanwhile (by a claim) may have been written anew, unexpired.
    const result = (await abortable(col.deleteMany({ _id: { $in: ids }, p: { $lt: cutoff } }), signal)) as { deletedCount?: number };
    deleted += result.deletedCount ?? 0;
    sent += ids.length;
    if (found.length <= limit) return { deleted, more: false };
    if (sent >= bounds.maxDeletes) return { deleted, more: true };
  }
}
