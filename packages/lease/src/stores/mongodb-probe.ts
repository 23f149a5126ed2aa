/**
 * The start-up probe of the MongoDB-wire store: checks, on the real server, the one guarantee
 * the store builds on — an insert of an `_id` that exists fails with a duplicate-key error,
 * also under concurrency — and whether a batch insert reports each failed insert as its own
 * duplicate-key error (else batches are sent as single inserts). FerretDB 1.24 passes both;
 * a server that fails the first is refused with `LeaseStoreUnsupportedError`.
 */
import { randomUUID } from '@steadyfn/handler/internal';
import { LeaseStoreUnsupportedError } from '../errors.js';
import { DUPLICATE_KEY, errorCode, writeErrorsOf, type MongoLeaseCollection } from './mongodb-docs.js';

/** What the probe found. */
export interface ProbeResult {
  /** `insertMany(…, { ordered: false })` reports each duplicate as a write error with its index. */
  batchInsertErrorsPerOperation: boolean;
  /** The server is FerretDB (`buildInfo.ferretdbVersion`): only `_id` lookups avoid a collection scan. */
  ferretdb: boolean;
}

const CONCURRENT_INSERTS = 8;

export async function probeServer(collection: MongoLeaseCollection): Promise<ProbeResult> {
  const id = (): string => `steadyfn-lease-probe:${randomUUID()}`;
  const contested = id();
  const others = [id(), id()];
  try {
    const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT_INSERTS }, () => collection.insertOne({ _id: contested, probe: true })));
    const won = outcomes.filter((o) => o.status === 'fulfilled').length;
    const duplicates = outcomes.filter((o) => o.status === 'rejected' && errorCode(o.reason) === DUPLICATE_KEY).length;
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && errorCode(o.reason) !== DUPLICATE_KEY);
    // A failure that is not a verdict (network, auth) is the caller's to see, not a refusal.
    if (failed) throw failed.reason;
    if (won !== 1 || duplicates !== CONCURRENT_INSERTS - 1) {
      throw new LeaseStoreUnsupportedError(
        'unique-insert',
        `${won} of ${CONCURRENT_INSERTS} concurrent inserts of one _id succeeded (expected exactly 1, the rest refused as duplicate keys): the server does not enforce a unique _id, so a claim could be won twice`,
        'a MongoDB server that enforces a unique _id (one of concurrent inserts of an _id succeeds, the rest are duplicate keys)',
      );
    }
    let batch = false;
    try {
      await collection.insertMany([{ _id: others[0], probe: true }, { _id: contested, probe: true }, { _id: others[1], probe: true }], { ordered: false });
    } catch (error) {
      const errors = writeErrorsOf(error);
      batch = errors !== undefined && errors.length === 1 && errors[0]!.index === 1 && errors[0]!.code === DUPLICATE_KEY;
    }
    return { batchInsertErrorsPerOperation: batch, ferretdb: await isFerretDB(collection) };
  } finally {
    await collection.deleteMany({ _id: { $in: [contested, ...others] } }).catch(() => undefined);
  }
}

async function isFerretDB(collection: MongoLeaseCollection): Promise<boolean> {
  if (!collection.db) return false;
  const info = (await collection.db.command({ buildInfo: 1 })) as Record<string, unknown>;
  return typeof info.ferretdbVersion === 'string';
}
