// Baseline for bench/lease.bench.ts only: @steadyfn/idempotency's store before it was rebuilt on @steadyfn/lease,
// as it was on main at 05c2c0e (git show 05c2c0e:packages/idempotency/src/stores/mongodb.ts). Not shipped.
/**
 * MongoDB (and servers speaking its protocol, such as FerretDB) through the official driver.
 *
 * One document per key, `_id` being the key (unique by definition):
 * `{ _id, s: 'p' | 'c', o: owner, f: fingerprint, r: result, expiresAt }`; a running
 * record's `expiresAt` is its lease.
 *
 *   claim     findOneAndUpdate({_id}, {$setOnInsert}, {upsert, returnDocument: 'before'})
 *             one command: inserts, or returns the record already there
 *   complete  updateOne({_id, s: 'p', o: owner, expiresAt > now})   only by the owner
 *   release   deleteOne({_id, s: 'p', o: owner, expiresAt > now})
 *   batches   one bulkWrite to claim (plus one find when some keys already exist),
 *             one bulkWrite to complete
 *
 * `expiresAt` gets a TTL index where the server has them (`ensureIndexes()`); on every
 * server, an expired record is treated as absent when read, and taken over by the next claim.
 */
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord } from './types.js';

export interface IdempotencyDocument {
  _id: string;
  s: 'p' | 'c';
  o?: string;
  f: string;
  r?: string;
  expiresAt: Date;
}

/**
 * The collection methods the store calls. Structural, so the package's types do not import
 * `mongodb`: a user of the Redis store needs no MongoDB types installed. A driver
 * `Collection` satisfies it.
 */
export interface MongoCollectionLike {
  findOneAndUpdate(...args: any[]): Promise<unknown>;
  findOne(...args: any[]): Promise<unknown>;
  find(...args: any[]): unknown;
  updateOne(...args: any[]): Promise<unknown>;
  deleteOne(...args: any[]): Promise<unknown>;
  bulkWrite(...args: any[]): Promise<unknown>;
  createIndex(...args: any[]): Promise<unknown>;
}

type AnyCollection = MongoCollectionLike;

export interface MongoStoreOptions {
  /** The collection holding records, or a function returning it (e.g. from a cached client). */
  collection: AnyCollection | (() => AnyCollection | Promise<AnyCollection>);
}

export interface MongoStore extends IdempotencyStore {
  /**
   * Creates the TTL index on `expiresAt` so the server deletes expired records. Run it once
   * at deploy time. `{ ttl: false }` on servers without TTL indexes (FerretDB), where
   * expired records are taken over on the next claim instead.
   */
  ensureIndexes(): Promise<{ ttl: boolean }>;
}

const DUPLICATE_KEY = 11000;
/** NotImplemented (FerretDB) and CommandNotSupported. */
const NOT_SUPPORTED = new Set([238, 115]);
const MAX_CLAIM_ATTEMPTS = 3;

function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function view(doc: IdempotencyDocument): StoredRecord {
  return doc.s === 'c'
    ? { status: 'completed', fingerprint: doc.f, result: doc.r ?? '', expiresAt: doc.expiresAt.getTime() }
    : { status: 'in_progress', fingerprint: doc.f, leaseUntil: doc.expiresAt.getTime() };
}

function isLive(doc: IdempotencyDocument, now: number): boolean {
  return doc.expiresAt instanceof Date && doc.expiresAt.getTime() > now;
}

function inProgressFields(request: ClaimRequest): Omit<IdempotencyDocument, '_id'> {
  return { s: 'p', o: request.owner, f: request.fingerprint, expiresAt: new Date(request.leaseUntil) };
}

export function mongoStore(options: MongoStoreOptions): MongoStore {
  const getCollection = typeof options.collection === 'function' ? options.collection : undefined;
  const fixed = typeof options.collection === 'function' ? undefined : options.collection;
  const collection = async (): Promise<Collection<IdempotencyDocument>> => (fixed ?? (await getCollection!())) as unknown as Collection<IdempotencyDocument>;

  /** Replaces an expired record, only if nobody else replaced it since it was read. */
  const takeOver = async (col: Collection<IdempotencyDocument>, stale: IdempotencyDocument, request: ClaimRequest): Promise<boolean> => {
    const taken = await col.findOneAndUpdate(
      { _id: request.key, s: stale.s, expiresAt: stale.expiresAt, ...(stale.o === undefined ? { o: { $exists: false } } : { o: stale.o }) },
      { $set: inProgressFields(request), $unset: { r: '' } },
      { returnDocument: 'before' },
    );
    return taken !== null;
  };

  const claim = async (request: ClaimRequest): Promise<ClaimResult> => {
    const col = await collection();
    for (let attempt = 1; ; attempt++) {
      let before: IdempotencyDocument | null;
      try {
        before = await col.findOneAndUpdate({ _id: request.key }, { $setOnInsert: inProgressFields(request) }, { upsert: true, returnDocument: 'before' });
      } catch (error) {
        // Two upserts of a new key raced; the loser reads the winner's record next time round.
        if (errorCode(error) === DUPLICATE_KEY && attempt < MAX_CLAIM_ATTEMPTS) continue;
        throw error;
      }
      if (before === null) return { claimed: true };
      if (isLive(before, Date.now())) return { claimed: false, record: view(before) };
      if (await takeOver(col, before, request)) return { claimed: true };
      if (attempt >= MAX_CLAIM_ATTEMPTS) {
        // Others keep replacing the record: report it as running, a retry will sort it out.
        return { claimed: false, record: { status: 'in_progress', fingerprint: request.fingerprint, leaseUntil: Date.now() + 1000 } };
      }
    }
  };

  const claimMany = async (requests: ReadonlyArray<ClaimRequest>): Promise<ClaimResult[]> => {
    if (requests.length === 0) return [];
    const col = await collection();
    const ops: AnyBulkWriteOperation<IdempotencyDocument>[] = requests.map((r) => ({
      updateOne: { filter: { _id: r.key }, update: { $setOnInsert: inProgressFields(r) }, upsert: true },
    }));
    let upserted: Record<string, unknown>;
    try {
      upserted = (await col.bulkWrite(ops, { ordered: false })).upsertedIds;
    } catch (error) {
      // Lost upsert races surface as write errors; the rest of the batch went through.
      const partial = (error as { result?: { upsertedIds?: Record<string, unknown> } }).result;
      if (!partial?.upsertedIds) throw error;
      upserted = partial.upsertedIds;
    }
    // Read by id, not by index: some servers number upserts differently.
    const claimedKeys = new Set(Object.values(upserted).map(String));
    const others = requests.filter((r) => !claimedKeys.has(r.key));
    const found = new Map<string, IdempotencyDocument>();
    if (others.length > 0) {
      for (const doc of await col.find({ _id: { $in: others.map((r) => r.key) } }).toArray()) found.set(doc._id, doc);
    }
    const now = Date.now();
    return Promise.all(
      requests.map(async (r): Promise<ClaimResult> => {
        if (claimedKeys.has(r.key)) return { claimed: true };
        const doc = found.get(r.key);
        if (doc && isLive(doc, now)) return { claimed: false, record: view(doc) };
        // Expired, or gone since the upsert: rare, claimed one by one.
        return claim(r);
      }),
    );
  };

  const settleOne = async (request: CompleteRequest | ReleaseRequest): Promise<boolean> => {
    const col = await collection();
    const filter = { _id: request.key, s: 'p' as const, o: request.owner, expiresAt: { $gt: new Date() } };
    if (isCompleteRequest(request)) {
      const res = await col.updateOne(filter, {
        $set: { s: 'c', f: request.fingerprint, r: request.result, expiresAt: new Date(request.expiresAt) },
        $unset: { o: '' },
      });
      return res.matchedCount === 1;
    }
    return (await col.deleteOne(filter)).deletedCount === 1;
  };

  const completeMany = async (requests: ReadonlyArray<CompleteRequest | ReleaseRequest>): Promise<boolean[]> => {
    if (requests.length === 0) return [];
    const col = await collection();
    const now = new Date();
    const ops: AnyBulkWriteOperation<IdempotencyDocument>[] = requests.map((r) => {
      const filter = { _id: r.key, s: 'p' as const, o: r.owner, expiresAt: { $gt: now } };
      return isCompleteRequest(r)
        ? { updateOne: { filter, update: { $set: { s: 'c', f: r.fingerprint, r: r.result, expiresAt: new Date(r.expiresAt) }, $unset: { o: '' } } } }
        : { deleteOne: { filter } };
    });
    const res = await col.bulkWrite(ops, { ordered: false });
    if (res.matchedCount + res.deletedCount === requests.length) return requests.map(() => true);
    // Some record was lost (lease expired or taken over): one read tells which.
    const docs = new Map<string, IdempotencyDocument>();
    for (const doc of await col.find({ _id: { $in: requests.map((r) => r.key) } }).toArray()) docs.set(doc._id, doc);
    return requests.map((r) => {
      const doc = docs.get(r.key);
      if (isCompleteRequest(r)) return doc !== undefined && doc.s === 'c' && doc.f === r.fingerprint && doc.r === r.result;
      // A release removed the record; one still there (completed or held by another) was not ours.
      return doc === undefined;
    });
  };

  return {
    claim,
    claimMany,
    complete: settleOne,
    release: settleOne,
    completeMany,
    async get(key) {
      const doc = await (await collection()).findOne({ _id: key });
      return doc && isLive(doc, Date.now()) ? view(doc) : undefined;
    },
    async ensureIndexes() {
      const col = await collection();
      try {
        await col.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'steadyfn_idempotency_expiresAt' });
        return { ttl: true };
      } catch (error) {
        const code = errorCode(error);
        if (code !== undefined && NOT_SUPPORTED.has(code)) return { ttl: false };
        throw error;
      }
    },
  };
}
