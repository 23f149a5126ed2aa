/**
 * Writing generations: each one an insert that either lands or meets a duplicate `_id`. Batch
 * results are read per operation (one duplicate-key write error per failed insert), never from
 * counts or upserted ids.
 */
import { raceSignal as abortable, throwIfAborted } from '@steadyfn/handler/internal';
import { DUPLICATE_KEY, errorCode, writeErrorsOf, type LeaseDocument, type MongoLeaseCollection, type MongoLeaseSession } from './mongodb-docs.js';

/** Most documents per insertMany. */
const INSERT_CHUNK = 100;

/**
 * Inserts each document; true where it was inserted, false where its `_id` existed. Any other
 * failure rejects (then some of the documents may have been inserted: their leases free them).
 * `perOperationErrors`: the probe found that the server reports each duplicate of a batch on
 * its own; otherwise documents go one insert each.
 */
export async function insertAll(
  col: MongoLeaseCollection,
  docs: LeaseDocument[],
  perOperationErrors: boolean,
  options: { signal?: AbortSignal; session?: MongoLeaseSession } | undefined,
): Promise<boolean[]> {
  const signal = options?.signal;
  const session = options?.session ? { session: options.session } : {};
  throwIfAborted(signal);
  const single = async (doc: LeaseDocument): Promise<boolean> => {
    try {
      await col.insertOne(doc, session);
      return true;
    } catch (error) {
      if (errorCode(error) === DUPLICATE_KEY) return false;
      throw error;
    }
  };
  if (docs.length === 1) return [await abortable(single(docs[0]!), signal)];
  const out: boolean[] = [];
  for (let start = 0; start < docs.length; start += INSERT_CHUNK) {
    const chunk = docs.slice(start, start + INSERT_CHUNK);
    if (!perOperationErrors) {
      out.push(...(await abortable(Promise.all(chunk.map(single)), signal)));
      continue;
    }
    const inserted = chunk.map(() => true);
    try {
      await abortable(col.insertMany(chunk, { ordered: false, ...session }), signal);
    } catch (error) {
      const errors = writeErrorsOf(error);
      // Only one duplicate-key error per failed insert is a verdict; anything else is a failure to report.
      if (!errors || errors.some((e) => e.code !== DUPLICATE_KEY || e.index < 0 || e.index >= chunk.length)) throw error;
      for (const e of errors) inserted[e.index] = false;
    }
    out.push(...inserted);
  }
  return out;
}

/** Deletes, in the background, superseded generations written before `before` (housekeeping only). */
export function sweep(col: MongoLeaseCollection, docs: LeaseDocument[], before: number): void {
  const ids = docs.filter((d) => d.c.getTime() < before).map((d) => d._id);
  if (ids.length === 0) return;
  col.deleteMany(ids.length === 1 ? { _id: ids[0] } : { _id: { $in: ids } }).catch(() => undefined);
}
