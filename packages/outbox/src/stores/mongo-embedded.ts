/**
 * The MongoDB embedded outbox: events live in the `_outbox` array of their aggregate's own
 * document (see `capture/mongo-embedded.ts`). The relay's bookkeeping — the head event's
 * attempts and a quarantine — lives in a side collection `<collection>_outbox`, one small
 * document per aggregate, written only by the aggregate's relay lease holder (or a redrive).
 *
 *   listPending  find({ _outboxPendingSince ≤ t }).sort(_outboxPendingSince).limit(n)
 *   begin        read the document's `_outbox`; count a started attempt on its head
 *   settle       $pullAll the exact sub-documents SQS accepted, conditional on the document's
 *                seq as read (so the new pendingSince is right) and on no newer fencing token
 *                having marked; on FerretDB under the document's write lease
 */
import { intOption, invalidOption, msOption, oneOfOption, stringOption } from '@steadyfn/handler/internal';
import type { EmbeddedLimits, WriteSerialisation } from '../capture/mongo-embedded.js';
import { serialised } from '../capture/mongo-embedded.js';
import { aggregateKey } from '../envelope.js';
import type { AggregateRef, LeaseClient, RelayStore, StoredEvent } from '../relay/types.js';
import { dbGetter, embeddedBytes, FIELDS, isFerretDB, type CollectionLike, type DbOption, type EmbeddedEvent } from './mongo-shapes.js';

/** Options of `mongoEmbeddedOutbox`. */
export interface MongoEmbeddedOutboxOptions {
  /** The database (a driver `Db`) or a getter. */
  db: DbOption;
  /** The collection of the aggregates; each document's `_id` (a string) is its aggregate id. */
  collection: string;
  /** The aggregate type of every document (and every event) of this collection. */
  aggregateType: string;
  /** Most events pending in one document. @default 1000 */
  maxPendingEvents?: number;
  /** Most bytes of pending envelopes in one document; the rest of it must stay under 16 MiB minus this. @default 4194304 (4 MiB) */
  maxPendingBytes?: number;
  /** Request keys remembered per document for exactly-once updates. @default 100 */
  maxAppliedKeys?: number;
  /**
   * How concurrent writers of one document are kept apart. `'server'`: the server's
   * filtered update is atomic (MongoDB). `'lease'`: each writer takes `writeLease` first
   * (FerretDB, whose filtered updates are not atomic). `'auto'` (default): `'lease'` on
   * FerretDB (found with `buildInfo`), `'server'` otherwise.
   */
  atomicity?: 'auto' | 'server' | 'lease';
  /** A `@steadyfn/lease` store on this server; needed for `'lease'`. */
  writeLease?: LeaseClient;
  /** The write lease's length. @default 10000 */
  writeLeaseMs?: number;
  /** How long a writer waits for the write lease before a retryable 503. @default 2000 */
  writeWaitMs?: number;
}

/** The embedded outbox store. */
export interface MongoEmbeddedOutboxStore {
  readonly mode: 'mongo-embedded';
  readonly aggregateType: string;
  readonly limits: EmbeddedLimits;
  collection(): Promise<CollectionLike>;
  /** How writers are serialised on this server (decided on first use). */
  serialisation(): Promise<WriteSerialisation>;
  readonly relay: RelayStore;
  /** Creates the `_outboxPendingSince` index (sparse) the sweeper reads by. Run once at deploy time. */
  ensureIndexes(): Promise<void>;
}

interface SideDoc {
  _id: string;
  q?: { fromSeq: number; reason: string; at: Date };
  t?: { seq: number; started: number; finished: number };
}

const OWNER = 'mongoEmbeddedOutbox';

/**
 * The MongoDB embedded outbox.
 *
 * @throws ConfigurationError for invalid options.
 * @example outbox({ events, store: mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order', writeLease }), relay })
 */
export function mongoEmbeddedOutbox(options: MongoEmbeddedOutboxOptions): MongoEmbeddedOutboxStore {
  const collectionName = stringOption(OWNER, 'collection', options.collection);
  const aggregateType = stringOption(OWNER, 'aggregateType', options.aggregateType);
  const limits: EmbeddedLimits = {
    maxPendingEvents: intOption(OWNER, 'maxPendingEvents', options.maxPendingEvents, 1000, 1, 100_000),
    maxPendingBytes: intOption(OWNER, 'maxPendingBytes', options.maxPendingBytes, 4 * 1024 * 1024, 1024, 12 * 1024 * 1024),
    maxAppliedKeys: intOption(OWNER, 'maxAppliedKeys', options.maxAppliedKeys, 100, 1, 10_000),
  };
  const atomicity = oneOfOption(OWNER, 'atomicity', options.atomicity, ['auto', 'server', 'lease'] as const, 'auto');
  if (options.writeLease !== undefined && (typeof options.writeLease !== 'object' || typeof options.writeLease.claim !== 'function')) invalidOption(OWNER, 'writeLease', 'a @steadyfn/lease store', options.writeLease);
  const leaseMs = msOption(OWNER, 'writeLeaseMs', options.writeLeaseMs, 10_000, 100);
  const waitMs = msOption(OWNER, 'writeWaitMs', options.writeWaitMs, 2_000, 0);
  const getDb = dbGetter(options.db);
  const collection = async (): Promise<CollectionLike> => (await getDb()).collection(collectionName);
  const side = async (): Promise<CollectionLike> => (await getDb()).collection(`${collectionName}_outbox`);
  let decided: Promise<WriteSerialisation> | undefined;
  const serialisation = (): Promise<WriteSerialisation> => {
    decided ??= (async () => {
      const mode = atomicity === 'auto' ? ((await isFerretDB(await getDb())) ? 'lease' : 'server') : atomicity;
      return { mode, lease: options.writeLease, leaseMs, waitMs };
    })();
    // A failed probe is tried again next time.
    decided.catch(() => (decided = undefined));
    return decided;
  };
  const idOf = (ref: Pick<AggregateRef, 'aggregate'>): string => ref.aggregate.slice(aggregateType.length + 1);

  const toStored = (ref: AggregateRef, e: EmbeddedEvent, t: SideDoc['t'], head: boolean): StoredEvent => ({
    ref: e.i,
    id: e.i,
    aggregate: ref.aggregate,
    aggregateId: idOf(ref),
    type: e.t,
    seq: e.s,
    body: e.e,
    committedAt: e.c instanceof Date ? e.c.getTime() : Number(e.c),
    started: head ? (t?.started ?? 1) : 1,
    finished: head ? (t?.finished ?? 0) : 0,
  });

  const relay: RelayStore = {
    kind: 'mongo-embedded',
    leaseKey: (ref) => `outbox-relay:${collectionName}:${idOf(ref)}`,
    async listPending({ limit, before }) {
      const docs = await (await collection())
        .find({ [FIELDS.pendingSince]: { $lte: new Date(before) } }, { projection: { _id: 1, [FIELDS.pendingSince]: 1 } })
        .sort({ [FIELDS.pendingSince]: 1 })
        .limit(limit)
        .toArray();
      return docs.map((d: Record<string, unknown>) => ({ where: collectionName, aggregate: aggregateKey(aggregateType, String(d._id)), since: (d[FIELDS.pendingSince] as Date).getTime() }));
    },
    async begin(ref, { limit }) {
      const id = idOf(ref);
      const [doc, state] = await Promise.all([(await collection()).findOne({ _id: id }, { projection: { [FIELDS.events]: 1 } }), (await side()).findOne({ _id: id }) as Promise<SideDoc | null>]);
      if (state?.q) return { quarantined: true, events: [] };
      const events: EmbeddedEvent[] = Array.isArray(doc?.[FIELDS.events]) ? doc[FIELDS.events] : [];
      if (events.length === 0) return { quarantined: false, events: [] };
      const head = events[0]!;
      const t = state?.t?.seq === head.s ? { seq: head.s, started: state.t.started + 1, finished: state.t.finished } : { seq: head.s, started: 1, finished: 0 };
      await (await side()).updateOne({ _id: id }, { $set: { t } }, { upsert: true });
      return { quarantined: false, events: events.slice(0, limit).map((e, i) => toStored(ref, e, t, i === 0)) };
    },
    async settle(ref, { sent, refused, lease, signal }) {
      const id = idOf(ref);
      const col = await collection();
      // The head's attempt ended with a refusal (matches only when the first refused one is the head).
      if (refused.length > 0) await (await side()).updateOne({ _id: id, 't.seq': refused[0]!.seq }, { $inc: { 't.finished': 1 } });
      if (sent.length === 0) return 0;
      const ids = new Set(sent.map((e) => `${e.id}|${e.seq}`));
      return serialised(await serialisation(), `outbox-write:${collectionName}:${id}`, signal, async () => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const doc = await col.findOne({ _id: id }, { projection: { [FIELDS.events]: 1, [FIELDS.seq]: 1 } });
          const events: EmbeddedEvent[] = Array.isArray(doc?.[FIELDS.events]) ? doc[FIELDS.events] : [];
          const pull = events.filter((e) => ids.has(`${e.i}|${e.s}`));
          if (pull.length === 0) return 0;
          const rest = events.filter((e) => !ids.has(`${e.i}|${e.s}`));
          const update: Record<string, unknown> = {
            $pullAll: { [FIELDS.events]: pull },
            $inc: { [FIELDS.count]: -pull.length, [FIELDS.bytes]: -pull.reduce((s, e) => s + embeddedBytes(e.e), 0) },
            $set: { [FIELDS.fence]: lease.fence, ...(rest.length > 0 ? { [FIELDS.pendingSince]: rest[0]!.c } : {}) },
          };
          if (rest.length === 0) update.$unset = { [FIELDS.pendingSince]: '' };
          const result = await col.updateOne({ _id: id, [FIELDS.seq]: doc?.[FIELDS.seq], [FIELDS.fence]: { $not: { $gt: lease.fence } } }, update);
          if (result.matchedCount > 0) {
            await (await side()).updateOne({ _id: id }, { $unset: { t: '' } });
            return pull.length;
          }
          const now = await col.findOne({ _id: id }, { projection: { [FIELDS.fence]: 1 } });
          if (typeof now?.[FIELDS.fence] === 'number' && now[FIELDS.fence] > lease.fence) return 0;
        }
        return 0;
      });
    },
    async quarantine(ref, { fromSeq, reason }) {
      await (await side()).updateOne({ _id: idOf(ref) }, { $set: { q: { fromSeq, reason, at: new Date() } } }, { upsert: true });
    },
    async redrive(ref) {
      const result = await (await side()).updateOne({ _id: idOf(ref), q: { $exists: true } }, { $unset: { q: '', t: '' } });
      return result.matchedCount > 0;
    },
    async listQuarantined({ limit }) {
      const docs = (await (await side()).find({ q: { $exists: true } }).limit(limit).toArray()) as SideDoc[];
      return docs.map((d) => ({ where: collectionName, aggregate: aggregateKey(aggregateType, d._id), since: d.q!.at.getTime(), fromSeq: d.q!.fromSeq, reason: d.q!.reason }));
    },
  };

  return {
    mode: 'mongo-embedded',
    aggregateType,
    limits,
    collection,
    serialisation,
    relay,
    async ensureIndexes() {
      await (await collection()).createIndex({ [FIELDS.pendingSince]: 1 }, { sparse: true, name: 'steadyfn_outbox_pendingSince' });
    },
  };
}
