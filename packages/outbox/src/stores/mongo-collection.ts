/**
 * The MongoDB transaction-mode outbox: one document per event in an outbox collection,
 * inserted in the caller's transaction; per-aggregate seq from a counter document updated in
 * the same transaction (concurrent writers of one aggregate conflict and the driver retries).
 *
 *   <outbox>        { _id: event id, a: aggregate, s: seq, t: type, e: envelope, c: committed,
 *                     p: pending?, st: started, fi: finished, f: fence, sentAt? }
 *                   indexes { a: 1, s: 1 } unique, { p: 1, c: 1 }
 *   <outbox>_seq    { _id: aggregate, seq }
 *   <outbox>_state  { _id: aggregate, q: { fromSeq, reason, at } }   (quarantine)
 *   <outbox>_applied { _id: request key, at }   (exactly-once writes; TTL index on `at`)
 *
 * Marks are conditional per event on (id, seq, fence): `begin` stamps the lease's fencing
 * token on the events it read ($max), so a relay that lost its lease to a newer one marks
 * nothing the newer one read.
 */
import { msOption, stringOption } from '@steadyfn/handler/internal';
import type { AggregateRef, RelayStore, StoredEvent } from '../relay/types.js';
import { dbGetter, isFerretDB, type CollectionLike, type DbOption } from './mongo-shapes.js';

/** A `MongoClient`, as transaction mode uses it. */
export interface MongoClientLike {
  startSession(options?: object): SessionLike;
}

/** A driver `ClientSession`, as transaction mode uses it. */
export interface SessionLike {
  withTransaction<T>(fn: (session: SessionLike) => Promise<T>, options?: object): Promise<T>;
  endSession(): Promise<void>;
}

/** Options of `mongoTransactionOutbox`. */
export interface MongoTransactionOutboxOptions {
  /** The `MongoClient` (transactions need a replica set or sharded cluster), or a getter. */
  client: MongoClientLike | (() => MongoClientLike | Promise<MongoClientLike>);
  /** The database holding the outbox collections (the function's own data may live anywhere on the same cluster). */
  db: DbOption;
  /** Outbox collection name. @default 'outbox' */
  collection?: string;
  /** After SQS accepted an event: delete it (default) or keep it, marked sent, until cleanup. */
  mark?: 'delete' | 'sent';
  /** How long applied request keys are kept (TTL index): at least the queue's retention plus its DLQ's. @default 1209600000 (14 days) */
  appliedTtlMs?: number;
}

/** The transaction-mode store. */
export interface MongoTransactionOutboxStore {
  readonly mode: 'mongo-transaction';
  client(): Promise<MongoClientLike>;
  outbox(): Promise<CollectionLike>;
  counters(): Promise<CollectionLike>;
  /** Request keys applied (exactly-once writes): `{ _id: key, at }`. */
  applied(): Promise<CollectionLike>;
  readonly relay: RelayStore;
  /** Whether the server runs multi-document transactions: a replica set member or mongos, and not FerretDB (`hello`, asked once). */
  supportsTransactions(): Promise<boolean>;
  /** Creates the outbox indexes. Run once at deploy time. */
  ensureIndexes(): Promise<void>;
}

interface EventDoc {
  _id: string;
  a: string;
  s: number;
  t: string;
  e: string;
  c: Date;
  p: boolean;
  st?: number;
  fi?: number;
  f?: number;
}

/**
 * The MongoDB transaction-mode outbox.
 *
 * @throws ConfigurationError for invalid options.
 */
export function mongoTransactionOutbox(options: MongoTransactionOutboxOptions): MongoTransactionOutboxStore {
  const name = stringOption('mongoTransactionOutbox', 'collection', options.collection, 'outbox');
  const mode = options.mark ?? 'delete';
  const appliedTtlMs = msOption('mongoTransactionOutbox', 'appliedTtlMs', options.appliedTtlMs, 14 * 24 * 3_600_000);
  const getDb = dbGetter(options.db);
  const getClient = typeof options.client === 'function' ? async () => (options.client as () => MongoClientLike)() : async () => options.client as MongoClientLike;
  const outbox = async () => (await getDb()).collection(name);
  const counters = async () => (await getDb()).collection(`${name}_seq`);
  const state = async () => (await getDb()).collection(`${name}_state`);
  const idOf = (aggregate: string) => aggregate.slice(aggregate.indexOf('/') + 1);

  const toStored = (d: EventDoc): StoredEvent => ({
    ref: d._id,
    id: d._id,
    aggregate: d.a,
    aggregateId: idOf(d.a),
    type: d.t,
    seq: d.s,
    body: d.e,
    committedAt: d.c.getTime(),
    started: d.st ?? 1,
    finished: d.fi ?? 0,
  });

  const relay: RelayStore = {
    kind: 'mongo-collection',
    leaseKey: (ref) => `outbox-relay:${name}:${ref.aggregate}`,
    async listPending({ limit, before }) {
      const docs = (await (await outbox()).find({ p: true, c: { $lte: new Date(before) } }, { projection: { a: 1, c: 1 } }).sort({ c: 1 }).limit(limit * 10).toArray()) as EventDoc[];
      const seen = new Map<string, AggregateRef>();
      for (const d of docs) if (!seen.has(d.a) && seen.size < limit) seen.set(d.a, { where: name, aggregate: d.a, since: d.c.getTime() });
      return [...seen.values()];
    },
    async begin(ref, { limit, lease }) {
      if (await (await state()).findOne({ _id: ref.aggregate, q: { $exists: true } })) return { quarantined: true, events: [] };
      const col = await outbox();
      const docs = (await col.find({ a: ref.aggregate, p: true }).sort({ s: 1 }).limit(limit).toArray()) as EventDoc[];
      if (docs.length === 0) return { quarantined: false, events: [] };
      await col.updateMany({ _id: { $in: docs.map((d) => d._id) } }, { $max: { f: lease.fence } });
      await col.updateOne({ _id: docs[0]!._id }, { $inc: { st: 1 } });
      docs[0]!.st = (docs[0]!.st ?? 0) + 1;
      return { quarantined: false, events: docs.map((d, i) => ({ ...toStored(d), started: i === 0 ? d.st! : (d.st ?? 0) + 1 })) };
    },
    async settle(_ref, { sent, refused, lease }) {
      const col = await outbox();
      let marked = 0;
      for (const e of sent) {
        const filter = { _id: e.id, s: e.seq, p: true, f: lease.fence };
        marked += mode === 'delete' ? (await col.deleteOne(filter)).deletedCount : (await col.updateOne(filter, { $set: { p: false, sentAt: new Date() } })).matchedCount;
      }
      if (refused[0]) await col.updateOne({ _id: refused[0].id, f: lease.fence }, { $inc: { fi: 1 } });
      return marked;
    },
    async quarantine(ref, { fromSeq, reason }) {
      await (await state()).updateOne({ _id: ref.aggregate }, { $set: { q: { fromSeq, reason, at: new Date() } } }, { upsert: true });
    },
    async redrive(ref) {
      const r = await (await state()).updateOne({ _id: ref.aggregate, q: { $exists: true } }, { $unset: { q: '' } });
      if (r.matchedCount > 0) await (await outbox()).updateMany({ a: ref.aggregate, p: true }, { $set: { st: 0, fi: 0 } });
      return r.matchedCount > 0;
    },
    async listQuarantined({ limit }) {
      const docs = await (await state()).find({ q: { $exists: true } }).limit(limit).toArray();
      return docs.map((d: { _id: string; q: { fromSeq: number; reason: string; at: Date } }) => ({ where: name, aggregate: d._id, since: d.q.at.getTime(), fromSeq: d.q.fromSeq, reason: d.q.reason }));
    },
    async cleanup({ limit, olderThanMs }) {
      const col = await outbox();
      const ids = (await col.find({ p: false, sentAt: { $lte: new Date(Date.now() - olderThanMs) } }, { projection: { _id: 1 } }).limit(limit).toArray()).map((d: { _id: string }) => d._id);
      return ids.length === 0 ? 0 : (await col.deleteMany({ _id: { $in: ids }, p: false })).deletedCount;
    },
  };
  if (mode === 'delete') delete relay.cleanup;

  let transactions: Promise<boolean> | undefined;
  return {
    mode: 'mongo-transaction',
    supportsTransactions() {
      transactions ??= (async () => {
        const db = await getDb();
        const hello = (await db.command({ hello: 1 })) as { setName?: string; msg?: string };
        return (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') && !(await isFerretDB(db));
      })();
      transactions.catch(() => (transactions = undefined));
      return transactions;
    },
    client: getClient,
    outbox,
    counters,
    applied: async () => (await getDb()).collection(`${name}_applied`),
    relay,
    async ensureIndexes() {
      const col = await outbox();
      await col.createIndex({ a: 1, s: 1 }, { unique: true, name: 'steadyfn_outbox_aggregate_seq' });
      await col.createIndex({ p: 1, c: 1 }, { name: 'steadyfn_outbox_pending' });
      await (await getDb()).collection(`${name}_applied`).createIndex({ at: 1 }, { expireAfterSeconds: Math.round(appliedTtlMs / 1000), name: 'steadyfn_outbox_applied_ttl' });
    },
  };
}
