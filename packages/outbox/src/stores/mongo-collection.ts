/**
 * The MongoDB transaction-mode outbox: one document per event in an outbox collection,
 * inserted in the caller's transaction; per-aggregate seq from a counter document updated in
 * the same transaction (concurrent writers of one aggregate conflict and the driver retries).
 *
 *   <outbox>        { _id: event id, a: aggregate, s: seq, t: type, e: envelope, b: its UTF-8 bytes,
 *                     c: committed, p: pending?, st: started, fi: finished, un: unjudged, tp?: traceparent, sentAt? }
 *                   indexes { a: 1, s: 1 } unique, { p: 1, c: 1 }
 *   <outbox>_seq    { _id: aggregate, seq }
 *   <outbox>_state  { _id: aggregate, q: { fromSeq, reason, at } }   (quarantine)
 *   <outbox>_applied { _id: request key, at, r?: answer }   (exactly-once writes; TTL index on `at`)
 *
 * A round reads each aggregate's head without the bodies first (`b` gives their sizes), spends
 * the round's byte budget over them (`readWithinBudget`, shared with the embedded outbox), and
 * then reads only the bodies it took.
 *
 * Marks are conditional on (lease token, seq): each event's mark matches its (id, seq) while
 * pending, and runs in a transaction together with the relay lease's settle (a
 * `mongoLeaseStore` on the same deployment: its settle takes the transaction's session), so a
 * relay that lost its lease commits no mark. With a lease store that cannot join (Redis), the
 * marks are conditional on (id, seq) alone and the lease is released after them.
 */
import { checkedGetter, checkKnownKeys, clientOption, invalidOption, isRecord, keysOf, msOption, mongoCollectionOption, oneOfOption } from '@steadyfn/handler/internal';
import { QuarantineUnreadableError } from '../errors.js';
import { readWithinBudget } from '../relay/budget.js';
import type { AggregateHead, AggregateRef, RelayLease, RelayStore, SettleItem, StoredEvent } from '../relay/types.js';
import { dbGetter, isFerretDB, quarantineMatches, readQuarantines, storedQuarantine, unreadableQuarantineReason, type CollectionLike, type DbOption } from './mongo-shapes.js';

/** A `MongoClient`, as transaction mode uses it. */
export interface MongoClientLike {
  startSession(options?: object): SessionLike;
}

/** A driver `ClientSession`, as transaction mode uses it. */
export interface SessionLike {
  withTransaction<T>(fn: (session: SessionLike) => Promise<T>, options?: object): Promise<T>;
  endSession(): Promise<void>;
}

/** Transactions of the relay's marks: snapshot reads, majority commit. */
const MARK_TRANSACTION = { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' } as const;

/** Thrown inside a mark transaction to abort it when a relay lease was lost. */
class LeaseLost extends Error {}

/** Whether a lease store's calls join a MongoDB transaction (`mongoLeaseStore`: its calls take `{ session }`). */
function joinsSessions(lease: RelayLease | undefined): boolean {
  return lease !== undefined && typeof (lease as { probe?: unknown }).probe === 'function' && lease.settleFragment === undefined;
}

/** Options of `mongoTransactionOutbox`. */
export interface MongoTransactionOutboxOptions {
  /** The `MongoClient` (transactions need a replica set or sharded cluster), or a getter. */
  client: MongoClientLike | (() => MongoClientLike | Promise<MongoClientLike>);
  /** The database holding the outbox collections (the function's own data may live anywhere on the same cluster). */
  db: DbOption;
  /**
   * Outbox collection name (`<name>_seq`, `<name>_state` and `<name>_applied` beside it): a
   * MongoDB collection name under the server's rule — non-empty, no `$` or NUL, not starting
   * with `.`, not `system.*` (`orders.` and `a..b` are taken); another is refused (`CONFIG_INVALID`, field `collection`). @default 'outbox'
   */
  collection?: string;
  /** After SQS accepted an event: delete it (default) or keep it, marked sent, until cleanup. */
  mark?: 'delete' | 'sent';
  /** How long applied request keys are kept (TTL index): at least the queue's retention plus its DLQ's. @default 1209600000 (14 days) */
  appliedTtlMs?: number;
  /** The relay's lease, set by `outbox()` from `relay.lease`: a `mongoLeaseStore` joins the marks' transaction. */
  lease?: RelayLease;
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
  /** The body's UTF-8 bytes: what a round's byte budget counts, read without the body. */
  b?: number;
  c: Date;
  p: boolean;
  st?: number;
  fi?: number;
  un?: number;
  tp?: string;
}

/**
 * One event as transaction mode stores it (inserted in the function's transaction), pending.
 *
 * @param body - The serialised envelope (`serializeEvent`).
 */
export function eventDocument(event: { id: string; type: string; traceparent?: string | undefined }, aggregate: string, seq: number, body: string, committedAt: Date): EventDoc {
  return { _id: event.id, a: aggregate, s: seq, t: event.type, e: body, b: Buffer.byteLength(body, 'utf8'), c: committedAt, p: true, ...(event.traceparent ? { tp: event.traceparent } : {}) };
}

/** Fields of an event document a round reads before it has spent its budget: all but the body. */
const WITHOUT_BODY = { e: 0 } as const;

/**
 * The MongoDB transaction-mode outbox.
 *
 * @throws ConfigurationError for invalid options or an unknown option key.
 */
export function mongoTransactionOutbox(options: MongoTransactionOutboxOptions): MongoTransactionOutboxStore {
  if (!isRecord(options)) invalidOption('mongoTransactionOutbox', 'options', 'an object { client, db }', options);
  checkKnownKeys('mongoTransactionOutbox', '', options, keysOf<MongoTransactionOutboxOptions>({ client: true, db: true, collection: true, mark: true, appliedTtlMs: true, lease: true }));
  const name = mongoCollectionOption('mongoTransactionOutbox', 'collection', options.collection, 'outbox');
  const mode = oneOfOption('mongoTransactionOutbox', 'mark', options.mark, ['delete', 'sent'] as const, 'delete');
  const appliedTtlMs = msOption('mongoTransactionOutbox', 'appliedTtlMs', options.appliedTtlMs, 14 * 24 * 3_600_000);
  clientOption('mongoTransactionOutbox', 'client', options.client, ['startSession'], 'a MongoClient (transactions start on it)');
  const getDb = dbGetter('mongoTransactionOutbox', options.db);
  const getClient = checkedGetter<MongoClientLike>('mongoTransactionOutbox', 'client', options.client, ['startSession'], 'a MongoClient (transactions start on it)');
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
    ...(d.tp ? { traceparent: d.tp } : {}),
    committedAt: d.c.getTime(),
    started: d.st ?? 1,
    finished: d.fi ?? 0,
    unjudged: d.un ?? 0,
  });
  const lease = joinsSessions(options.lease) ? options.lease : undefined;

  /** An aggregate's first `limit + 1` pending events without their bodies, or undefined when it is quarantined. */
  const readHead = async (ref: AggregateRef, limit: number): Promise<EventDoc[] | undefined> => {
    if (await (await state()).findOne({ _id: ref.aggregate, q: { $exists: true } })) return undefined;
    return (await (await outbox()).find({ a: ref.aggregate, p: true }, { projection: WITHOUT_BODY }).sort({ s: 1 }).limit(limit + 1).toArray()) as EventDoc[];
  };

  /**
   * Fills in the bodies of each head's first `counts[i]` events (one `$in` read of just those);
   * a head is cut at an event that is no longer pending (marked in between).
   */
  const readBodies = async (heads: Array<EventDoc[] | undefined>, counts: ReadonlyArray<number>): Promise<void> => {
    const ids = heads.flatMap((docs, i) => (docs ?? []).slice(0, counts[i]).map((d) => d._id));
    if (ids.length === 0) return;
    const bodies = new Map<string, string>();
    for (const d of (await (await outbox()).find({ _id: { $in: ids }, p: true }, { projection: { e: 1 } }).toArray()) as EventDoc[]) bodies.set(d._id, d.e);
    heads.forEach((docs, i) => {
      const taken = (docs ?? []).slice(0, counts[i]);
      const kept = taken.findIndex((d) => !bodies.has(d._id));
      for (const d of kept === -1 ? taken : taken.slice(0, kept)) d.e = bodies.get(d._id)!;
      if (docs && kept !== -1) docs.length = kept;
    });
  };

  /** Reads the heads within the round's byte budget (relay/budget.ts), and begins an attempt on each head taken. */
  const beginMany = async (refs: ReadonlyArray<AggregateRef>, limit: number, budget: number): Promise<AggregateHead[]> => {
    const heads = await Promise.all(refs.map((ref) => readHead(ref, limit)));
    const { counts: planned } = await readWithinBudget(
      {
        // Sizes from `b`; one without it (written before it was kept) is read alone, as the round's first.
        sizes: async () => heads.map((docs) => (docs ?? []).slice(0, limit).map((d) => (typeof d.b === 'number' ? d.b : Infinity))),
        bodies: (counts) => readBodies(heads, counts),
      },
      limit,
      budget,
    );
    const counts = planned.map((n, i) => Math.min(n, heads[i]?.length ?? 0));
    const col = await outbox();
    return Promise.all(
      heads.map(async (docs, i): Promise<AggregateHead> => {
        if (!docs) return { quarantined: true, events: [], more: false };
        if (docs.length === 0) return { quarantined: false, events: [], more: false };
        const n = counts[i]!;
        // Its head did not fit in what the round had left: no attempt begun, it goes first next round.
        if (n === 0) return { quarantined: false, events: [], more: true };
        await col.updateOne({ _id: docs[0]!._id }, { $inc: { st: 1 } });
        docs[0]!.st = (docs[0]!.st ?? 0) + 1;
        return { quarantined: false, events: docs.slice(0, n).map((d, k) => ({ ...toStored(d), started: k === 0 ? d.st! : (d.st ?? 0) + 1 })), more: docs.length > n };
      }),
    );
  };

  /** The marks of `items`, with `session` when in a transaction. Throws `LeaseLost` when a lease settle fails inside it. */
  const marks = async (items: ReadonlyArray<SettleItem>, session: SessionLike | undefined): Promise<number[]> => {
    const col = await outbox();
    const with_ = session ? { session } : {};
    if (session && lease) {
      const settled = await lease.settleMany(items.map(({ lease: l }) => ({ key: l.key, owner: l.owner, fence: l.fence })), with_ as never);
      if (settled.some((ok) => !ok)) throw new LeaseLost();
    }
    return Promise.all(
      items.map(async ({ sent, refused, unjudged }) => {
        let marked = 0;
        if (sent.length > 0) {
          const filter = { $or: sent.map((e) => ({ _id: e.id, s: e.seq })), p: true };
          marked = mode === 'delete' ? (await col.deleteMany(filter, with_)).deletedCount : (await col.updateMany(filter, { $set: { p: false, sentAt: new Date() } }, with_)).matchedCount;
        }
        // The head's attempt ended; unjudged when SQS gave it no verdict.
        if (refused[0]) await col.updateOne({ _id: refused[0].id, s: refused[0].seq, p: true }, { $inc: unjudged?.some((e) => e.id === refused[0]!.id) ? { fi: 1, un: 1 } : { fi: 1 } }, with_);
        return marked;
      }),
    );
  };

  /** In one transaction with the leases' settles; a lost lease aborts it, and each aggregate is then tried alone (-1 where lost). */
  const settleInTransaction = async (items: ReadonlyArray<SettleItem>): Promise<number[]> => {
    const run = async (group: ReadonlyArray<SettleItem>): Promise<number[]> => {
      const session = (await getClient()).startSession();
      try {
        let out: number[] = [];
        await session.withTransaction(async () => {
          out = await marks(group, session);
        }, MARK_TRANSACTION);
        return out;
      } finally {
        await session.endSession();
      }
    };
    try {
      return await run(items);
    } catch (error) {
      if (!(error instanceof LeaseLost) || items.length === 1) {
        if (error instanceof LeaseLost) return [-1];
        throw error;
      }
      return Promise.all(items.map((item) => run([item]).then((r) => r[0]!, (e: unknown) => (e instanceof LeaseLost ? -1 : Promise.reject(e)))));
    }
  };

  const relay: RelayStore = {
    kind: 'mongo-collection',
    leaseKey: (ref) => `outbox-relay:${name}:${ref.aggregate}`,
    // Aggregates are `type/id`: a key without a slash cannot be one of theirs.
    cleanupLeaseKey: `outbox-relay:${name}:cleanup`,
    async listPending({ limit, before }) {
      // Quarantined aggregates are left out: the relay sends nothing of them until a redrive,
      // and listed they would take the places of those it can relay. `_state` holds a document
      // only for an aggregate quarantined at some time, so this read stays small.
      const held = ((await (await state()).find({ q: { $exists: true } }, { projection: { _id: 1 } }).toArray()) as Array<{ _id: string }>).map((d) => d._id);
      const filter = { p: true, c: { $lte: new Date(before) }, ...(held.length > 0 ? { a: { $nin: held } } : {}) };
      const docs = (await (await outbox()).find(filter, { projection: { a: 1, c: 1 } }).sort({ c: 1 }).limit(limit * 10).toArray()) as EventDoc[];
      const seen = new Map<string, AggregateRef>();
      for (const d of docs) if (!seen.has(d.a) && seen.size < limit) seen.set(d.a, { where: name, aggregate: d.a, since: d.c.getTime() });
      return [...seen.values()];
    },
    begin: (items, { limit, maxBytes }) => beginMany(items.map((item) => item.ref), limit, maxBytes),
    settle: (items) => (lease ? settleInTransaction(items) : marks(items, undefined)),
    settleReleasesLease: lease !== undefined,
    withLease(relayLease) {
      return mongoTransactionOutbox({ ...options, lease: relayLease }).relay;
    },
    async quarantine(ref, { fromSeq, reason }) {
      const at = new Date();
      await (await state()).updateOne({ _id: ref.aggregate }, { $set: { q: { fromSeq, reason, at } } }, { upsert: true });
      return at.getTime();
    },
    async redrive(ref) {
      const col = await state();
      const stored = (await col.findOne({ _id: ref.aggregate }, { projection: { q: 1 } })) as { q?: unknown } | null;
      const found = stored && { q: stored.q === undefined ? undefined : storedQuarantine(stored.q) };
      if (stored && stored.q !== undefined && !found?.q) throw new QuarantineUnreadableError(name, ref.aggregate, `${unreadableQuarantineReason(ref.aggregate, col.collectionName, ref.aggregate)}: nothing was redriven (it was written by something other than the relay: repair or remove it by hand)`);
      if (!found?.q) {
        const known = found ?? (await (await counters()).findOne({ _id: ref.aggregate }, { projection: { _id: 1 } })) ?? (await (await outbox()).findOne({ a: ref.aggregate }, { projection: { _id: 1 } }));
        return known ? 'not-quarantined' : 'unknown';
      }
      if (!quarantineMatches(ref, found.q.fromSeq, found.q.at)) return 'quarantine-changed';
      // Under the redrive's lease (relay/redrive.ts): no other redrive of this quarantine runs
      // between this read and these writes. Counters first, while the quarantine still holds
      // the aggregate (no relay begins an attempt on it), then the quarantine as read.
      await (await outbox()).updateMany({ a: ref.aggregate, p: true }, { $set: { st: 0, fi: 0, un: 0 } });
      await col.updateOne({ _id: ref.aggregate, 'q.fromSeq': found.q.fromSeq, 'q.at': found.q.at }, { $unset: { q: '' } });
      return 'redriven';
    },
    refIssue: ({ where }) => (where === name ? undefined : { field: 'where', expected: `"${name}", the outbox collection of this outbox` }),
    async listQuarantined({ limit, onUnreadable, signal }) {
      const col = await state();
      return readQuarantines(
        col,
        limit,
        (aggregate, q) => ({ where: name, aggregate, quarantinedAt: q.at.getTime(), fromSeq: q.fromSeq, reason: q.reason }),
        (aggregate, idNotString) => onUnreadable?.({ where: name, aggregate, code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: `${unreadableQuarantineReason(aggregate, col.collectionName, aggregate, idNotString)}: left out of the listing` }),
        signal,
      );
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
