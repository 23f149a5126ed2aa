/**
 * The start-up probe of the MongoDB-wire store: checks, on the real server, the one guarantee
 * the store builds on — an insert of an `_id` that exists fails with a duplicate-key error,
 * also under concurrency — and whether a batch insert reports each failed insert as its own
 * duplicate-key error (else batches are sent as single inserts). FerretDB 1.24 passes both;
 * a server that fails the first is refused with `LeaseStoreUnsupportedError` — only when it
 * really stored two documents under one `_id`: two inserts that both landed because the
 * collection was dropped between them are no verdict, and the check runs again.
 */
import { randomUUID } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError, LeaseStoreUnsupportedError } from '../errors.js';
import { DUPLICATE_KEY, errorCode, insertOneAcrossDrop, writeErrorsOf, type MongoLeaseCollection } from './mongodb-docs.js';

/** What the probe found. */
export interface ProbeResult {
  /** `insertMany(…, { ordered: false })` reports each duplicate as a write error with its index. */
  batchInsertErrorsPerOperation: boolean;
  /** The server is FerretDB (`buildInfo.ferretdbVersion`): only `_id` lookups avoid a collection scan. */
  ferretdb: boolean;
}

/** The `code` of `ProbeNoVerdictError`. */
export const PROBE_NO_VERDICT = 'LEASE_PROBE_NO_VERDICT';

/**
 * The cause of the `LeaseStoreUnavailableError` thrown when the start-up probe found no verdict:
 * the lease collection was dropped under each of its rounds (a restore lock's collection, dropped
 * as its restore ends). Says nothing of the server; the next call probes again. A sibling that
 * drops the collection itself recognises it by `code` (`PROBE_NO_VERDICT`), not by its message.
 */
export class ProbeNoVerdictError extends Error {
  override readonly name = 'ProbeNoVerdictError';
  /** Always `PROBE_NO_VERDICT` (`LEASE_PROBE_NO_VERDICT`). */
  readonly code = PROBE_NO_VERDICT;
}

const CONCURRENT_INSERTS = 8;
/** Rounds of the concurrent-insert check when the collection was dropped under one (see `uniqueInsertRound`). */
const ROUNDS = 3;

export async function probeServer(collection: MongoLeaseCollection): Promise<ProbeResult> {
  const id = (): string => `steadyfn-lease-probe:${randomUUID()}`;
  const written: string[] = [];
  try {
    let contested: string | undefined;
    for (let round = 1; contested === undefined; round++) {
      const candidate = id();
      written.push(candidate);
      if (await uniqueInsertRound(collection, candidate, round === ROUNDS)) contested = candidate;
    }
    const others = [id(), id()];
    written.push(...others);
    let batch = false;
    try {
      await collection.insertMany([{ _id: others[0], probe: true }, { _id: contested, probe: true }, { _id: others[1], probe: true }], { ordered: false });
    } catch (error) {
      const errors = writeErrorsOf(error);
      batch = errors !== undefined && errors.length === 1 && errors[0]!.index === 1 && errors[0]!.code === DUPLICATE_KEY;
    }
    return { batchInsertErrorsPerOperation: batch, ferretdb: await isFerretDB(collection) };
  } finally {
    await collection.deleteMany({ _id: { $in: written } }).catch(() => undefined);
  }
}

/**
 * One round of the check: `CONCURRENT_INSERTS` inserts of `contested` at once. True when
 * exactly one landed and the rest were duplicate keys. When more landed, the documents stored
 * under `contested` tell why: as many as landed — the server keeps duplicates, refused with
 * `LeaseStoreUnsupportedError` — or fewer: the collection was dropped and created again between
 * the inserts (a restore lock's collection is dropped when its restore ends, while another may
 * be starting), which says nothing of the server, so false (another round) — unless `last`.
 * @throws {LeaseStoreUnsupportedError} the server stored two documents under one `_id`
 * @throws {LeaseStoreUnavailableError} `last`, and the collection was dropped under this round too (its cause a `ProbeNoVerdictError`)
 * @throws what an insert threw other than a duplicate key (network, auth: not a verdict)
 */
async function uniqueInsertRound(collection: MongoLeaseCollection, contested: string, last: boolean): Promise<boolean> {
  const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT_INSERTS }, () => insertOneAcrossDrop(collection, { _id: contested, probe: true }, {})));
  const won = outcomes.filter((o) => o.status === 'fulfilled').length;
  const duplicates = outcomes.filter((o) => o.status === 'rejected' && errorCode(o.reason) === DUPLICATE_KEY).length;
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && errorCode(o.reason) !== DUPLICATE_KEY);
  // A failure that is not a verdict (network, auth) is the caller's to see, not a refusal.
  if (failed) throw failed.reason;
  if (won === 1 && duplicates === CONCURRENT_INSERTS - 1) return true;
  const stored = won > 1 ? (await collection.find({ _id: contested }).toArray()).length : 0;
  if (won > 1 && stored === won) {
    throw new LeaseStoreUnsupportedError(
      'unique-insert',
      `${won} of ${CONCURRENT_INSERTS} concurrent inserts of one _id succeeded and the collection holds ${stored} documents under it (expected exactly 1, the rest refused as duplicate keys): the server does not enforce a unique _id, so a claim could be won twice`,
      'a MongoDB server that enforces a unique _id (one of concurrent inserts of an _id succeeds, the rest are duplicate keys)',
    );
  }
  if (!last) return false;
  throw new LeaseStoreUnavailableError('mongodb', new ProbeNoVerdictError(`the lease collection was dropped while each of ${ROUNDS} rounds of the start-up probe ran (${won} of ${CONCURRENT_INSERTS} concurrent inserts of one _id landed, ${stored} stored): no verdict yet, the next call probes again`));
}

async function isFerretDB(collection: MongoLeaseCollection): Promise<boolean> {
  if (!collection.db) return false;
  const info = (await collection.db.command({ buildInfo: 1 })) as Record<string, unknown>;
  return typeof info.ferretdbVersion === 'string';
}
