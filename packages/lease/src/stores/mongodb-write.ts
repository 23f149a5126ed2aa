/**
 * Writing generations: each one an insert that either lands or meets a duplicate `_id`. Batch
 * results are read per operation (one duplicate-key write error per failed insert), never from
 * counts or upserted ids.
 */
import { raceSignal as abortable, throwIfAborted } from '@steadyfn/handler/internal';
import { unreachableMongo } from './store-unavailable.js';
import { DUPLICATE_KEY, errorCode, insertOneAcrossDrop, writeErrorsOf, type LeaseDocument, type MongoLeaseCollection, type MongoLeaseSession } from './mongodb-docs.js';

/** Most documents per insertMany. */
const INSERT_CHUNK = 100;

/**
 * Inserts each document; true where it was inserted, false where its `_id` existed. Any other
 * failure rejects, a network error included: then each document may or may not have been
 * inserted (or may still be), and the caller must not read it as either (a claim gives back
 * what its owner holds, see `claimBatch` in mongodb.ts).
 * A single insert that met the collection being dropped on FerretDB is sent again
 * (`insertOneAcrossDrop`: nothing was inserted) — unless `signal` has aborted by then; a batch's
 * is not (the outcome of each is unknown).
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
      // Inside a transaction the drop aborts it: the caller's transaction decides, not a resend.
      await (options?.session ? col.insertOne(doc, session) : insertOneAcrossDrop(col, doc, session, signal));
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
    try {
      await abortable(col.insertMany(chunk, { ordered: false, ...session }), signal);
      out.push(...chunk.map(() => true));
    } catch (error) {
      const inserted = verdicts(error, chunk.length);
      if (!inserted) throw error;
      out.push(...inserted);
    }
  }
  return out;
}

/**
 * What a failed `insertMany` of `count` documents (unordered) says of each: false where the
 * server reported a duplicate `_id`, true for the rest — or undefined when the error does not
 * say, and the outcome of every document is unknown. Only the server's answer to the whole
 * batch says: a `MongoBulkWriteError` whose own code is a duplicate key (the driver's
 * `handleWriteError`), listing one duplicate-key error per failed insert, with no write concern
 * error. The driver wraps a network error (a connection reset before or after the server ran
 * the insert) in a `MongoBulkWriteError` too, with an empty `writeErrors` list (or the list of
 * an earlier batch): that is not "all inserted".
 */
function verdicts(error: unknown, count: number): boolean[] | undefined {
  const errors = writeErrorsOf(error);
  if (!errors || errors.length === 0 || errorCode(error) !== DUPLICATE_KEY || unreachableMongo(error) || hasWriteConcernError(error)) return undefined;
  const inserted = new Array<boolean>(count).fill(true);
  for (const e of errors) {
    if (e.code !== DUPLICATE_KEY || e.index < 0 || e.index >= count || !inserted[e.index]) return undefined;
    inserted[e.index] = false;
  }
  return inserted;
}

function hasWriteConcernError(error: unknown): boolean {
  const result = (error as { result?: { hasWriteConcernError?: () => unknown } } | null)?.result;
  return typeof result?.hasWriteConcernError === 'function' && Boolean(result.hasWriteConcernError());
}

/** Deletes, in the background, superseded generations written before `before` (housekeeping only). */
export function sweep(col: MongoLeaseCollection, docs: LeaseDocument[], before: number): void {
  const ids = docs.filter((d) => d.c.getTime() < before).map((d) => d._id);
  if (ids.length === 0) return;
  col.deleteMany(ids.length === 1 ? { _id: ids[0] } : { _id: { $in: ids } }).catch(() => undefined);
}
