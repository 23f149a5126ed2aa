/**
 * The relay's view of the MongoDB embedded outbox. The relay's bookkeeping — the head event's
 * attempts and a quarantine — lives in a side collection `<collection>_outbox`, one small
 * document per aggregate, written only by the aggregate's relay lease holder (or a redrive).
 *
 *   listPending  MongoDB: find({ _outboxPendingSince ≤ t }) by its index, oldest first, the
 *                quarantined ones (side collection, by `_id`) left out.
 *                FerretDB (no index use for anything but `_id`): the pending registry
 *                `<collection>_outbox_pending`, which holds only documents with pending events
 *                (each entry's `p` kept under the document's write lease, like the document)
 *   begin        read the documents' `_outbox` (one `$in` query on MongoDB; `_id` lookups on
 *                FerretDB, the only reads it serves from SQL); count a started attempt on each head
 *   settle       $pullAll the exact sub-documents SQS accepted, conditional on the document's
 *                seq as read (so the new pendingSince is right) and on no newer fencing token
 *                having marked; on FerretDB under the document's write lease, with the registry
 */
import type { PendingRegistry, WriteSerialisation } from '../capture/mongo-embedded.js';
import { serialised } from '../capture/mongo-embedded.js';
import { aggregateKey } from '../envelope.js';
import { QuarantineUnreadableError } from '../errors.js';
import { readWithinBudget, spendBudget } from '../relay/budget.js';
import type { AggregateHead, AggregateRef, RelayStore, SettleItem, StoredEvent } from '../relay/types.js';
import { FIELDS, quarantineMatches, readQuarantines, storedQuarantine, unreadableQuarantineReason, type CollectionLike, type EmbeddedEvent } from './mongo-shapes.js';
import { bsonSize, embeddedBytes } from './bson-size.js';

interface SideDoc {
  _id: string;
  q?: { fromSeq: number; reason: string; at: Date };
  t?: { seq: number; started: number; finished: number; unjudged?: number };
}

/** What the relay store needs of the embedded outbox. */
export interface EmbeddedRelayParts {
  collectionName: string;
  aggregateType: string;
  collection(): Promise<CollectionLike>;
  side(): Promise<CollectionLike>;
  registry(): Promise<PendingRegistry | undefined>;
  serialisation(): Promise<WriteSerialisation>;
}

/** The embedded outbox's relay store. */
export function embeddedRelayStore(parts: EmbeddedRelayParts): RelayStore {
  const { collectionName, aggregateType, collection, side, registry, serialisation } = parts;
  const idOf = (ref: Pick<AggregateRef, 'aggregate'>): string => ref.aggregate.slice(aggregateType.length + 1);

  const toStored = (ref: AggregateRef, e: EmbeddedEvent, t: SideDoc['t'], head: boolean): StoredEvent => ({
    ref: e.i,
    id: e.i,
    aggregate: ref.aggregate,
    aggregateId: idOf(ref),
    type: e.t,
    seq: e.s,
    body: e.e,
    ...(e.p ? { traceparent: e.p } : {}),
    committedAt: e.c instanceof Date ? e.c.getTime() : Number(e.c),
    started: head ? (t?.started ?? 1) : 1,
    finished: head ? (t?.finished ?? 0) : 0,
    unjudged: head ? (t?.unjudged ?? 0) : 0,
  });

  /** Documents by id: one `$in` query where the server uses the index; `_id` lookups on FerretDB. */
  const readMany = async (col: CollectionLike, ids: string[], projection: object | undefined): Promise<Map<string, Record<string, unknown>>> => {
    const byId = new Map<string, Record<string, unknown>>();
    if ((await serialisation()).mode === 'server') {
      for (const doc of await col.find({ _id: { $in: ids } }, projection ? { projection } : {}).toArray()) byId.set(String(doc._id), doc);
    } else {
      const docs = await Promise.all(ids.map((id) => col.findOne({ _id: id }, projection ? { projection } : {})));
      docs.forEach((doc, i) => doc && byId.set(ids[i]!, doc));
    }
    return byId;
  };

  /**
   * The round's documents within its budget (`readWithinBudget`, shared with transaction
   * mode): a document's pending events are read in full, in order, while their pending bytes
   * (the capture keeps the sum) fit in what the budget has left, and the first that holds any
   * in any case — so the driver never holds much more than the budget plus one document
   * (`maxPendingBytes`). The others are skipped this round; a document holding none is not read.
   */
  const readDocuments = async (ids: string[], budget: number): Promise<{ skipped: Set<string>; docs: Map<string, Record<string, unknown>> }> => {
    const { sizes, counts, read } = await readWithinBudget(
      {
        async sizes() {
          const found = await readMany(await collection(), ids, { [FIELDS.bytes]: 1 });
          return ids.map((id) => {
            const bytes = found.get(id)?.[FIELDS.bytes];
            // Unknown (a document without the field): read alone, as the round's first.
            return !found.has(id) || bytes === 0 ? [] : [typeof bytes === 'number' ? bytes : Infinity];
          });
        },
        bodies: async (taken) => readMany(await collection(), ids.filter((_, i) => taken[i]! > 0), { [FIELDS.events]: 1 }),
      },
      1,
      budget,
    );
    return { skipped: new Set(ids.filter((_, i) => sizes[i]!.length > 0 && counts[i] === 0)), docs: read };
  };

  const beginMany = async (refs: ReadonlyArray<AggregateRef>, limit: number, budget: number): Promise<AggregateHead[]> => {
    const ids = refs.map(idOf);
    const [{ skipped, docs }, sides] = await Promise.all([readDocuments(ids, budget), readMany(await side(), ids, undefined)]);
    const sideCol = await side();
    const states = ids.map((id) => sides.get(id) as SideDoc | undefined);
    const pending = ids.map((id, i): EmbeddedEvent[] => {
      const all = docs.get(id)?.[FIELDS.events];
      return states[i]?.q || !Array.isArray(all) ? [] : all;
    });
    // The round's byte budget, spent round-robin (relay/budget.ts) in UTF-8 bytes — as the other
    // stores count a body, not in UTF-16 units (`length`); only what is taken is kept.
    const counts = spendBudget(pending.map((events) => events.map((e) => Buffer.byteLength(e.e, 'utf8'))), limit, budget);
    return Promise.all(
      refs.map(async (ref, i): Promise<AggregateHead> => {
        const state = states[i];
        if (state?.q) return { quarantined: true, events: [], more: false };
        const events = pending[i]!;
        // Not read: its pending bytes did not fit in what the round had left; it goes first next round.
        if (skipped.has(ids[i]!)) return { quarantined: false, events: [], more: true };
        if (events.length === 0) {
          await dropStale(ids[i]!, undefined);
          return { quarantined: false, events: [], more: false };
        }
        const n = counts[i]!;
        // Its head did not fit in what the round had left: no attempt begun, it goes first next round.
        if (n === 0) return { quarantined: false, events: [], more: true };
        const head = events[0]!;
        const t = state?.t?.seq === head.s ? { seq: head.s, started: state.t.started + 1, finished: state.t.finished, unjudged: state.t.unjudged ?? 0 } : { seq: head.s, started: 1, finished: 0, unjudged: 0 };
        await sideCol.updateOne({ _id: ids[i] }, { $set: { t } }, { upsert: true });
        return { quarantined: false, events: events.slice(0, n).map((e, j) => toStored(ref, e, t, j === 0)), more: events.length > n };
      }),
    );
  };

  /**
   * Whether a relay with a newer fencing token has marked the document: the caller's lease was
   * taken over, and its settle answers -1 (lease lost), as the Redis store's does, so the relay
   * neither counts its events sent nor quarantines the aggregate with its stale token — the
   * new holder has sent what it read (a stale quarantine would hold every later event).
   */
  const fencedOut = async (col: CollectionLike, id: string, fence: number): Promise<boolean> => newerFence(await col.findOne({ _id: id }, { projection: { [FIELDS.fence]: 1 } }), fence);

  /**
   * -1 where the lease moved on (see `fencedOut`); -2 where writers moved the seq before each
   * try (a hot document, 'server' mode): nothing marked, the head's attempt ended unjudged, so
   * the events are sent again later without counting toward poison; else how many were marked.
   */
  const settleOne = async (item: SettleItem, signal: AbortSignal | undefined): Promise<number> => {
    const { ref, sent, refused, lease } = item;
    const id = idOf(ref);
    const col = await collection();
    // The head's attempt ended (matches only when the first refused one is the head); unjudged when SQS gave it no verdict.
    if (refused.length > 0) {
      const unjudged = item.unjudged?.some((e) => e.id === refused[0]!.id) === true;
      await (await side()).updateOne({ _id: id, 't.seq': refused[0]!.seq }, { $inc: unjudged ? { 't.finished': 1, 't.unjudged': 1 } : { 't.finished': 1 } });
    }
    if (sent.length === 0) return (await fencedOut(col, id, lease.fence)) ? -1 : 0;
    const ids = new Set(sent.map((e) => `${e.id}|${e.seq}`));
    const pending = await registry();
    const size = await bsonSize();
    return serialised(await serialisation(), `outbox-write:${collectionName}:${id}`, signal, async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const doc = await col.findOne({ _id: id }, { projection: { [FIELDS.events]: 1, [FIELDS.seq]: 1, [FIELDS.fence]: 1 } });
        const events: EmbeddedEvent[] = Array.isArray(doc?.[FIELDS.events]) ? doc[FIELDS.events] : [];
        const pull = events.filter((e) => ids.has(`${e.i}|${e.s}`));
        // Nothing left to mark: a newer holder may have sent and marked them — then this relay is fenced out.
        if (pull.length === 0) return newerFence(doc, lease.fence) ? -1 : 0;
        const rest = events.filter((e) => !ids.has(`${e.i}|${e.s}`));
        const update: Record<string, unknown> = {
          $pullAll: { [FIELDS.events]: pull },
          // Drained, the byte counter is set to 0 rather than decremented: a counter kept by
          // another measure (before the BSON one) does not drift past a drain.
          $inc: { [FIELDS.count]: -pull.length, ...(rest.length > 0 ? { [FIELDS.bytes]: -pull.reduce((s, e) => s + embeddedBytes(e, size), 0) } : {}) },
          $set: { [FIELDS.fence]: lease.fence, ...(rest.length > 0 ? { [FIELDS.pendingSince]: rest[0]!.c } : { [FIELDS.bytes]: 0 }) },
        };
        if (rest.length === 0) update.$unset = { [FIELDS.pendingSince]: '' };
        const result = await col.updateOne({ _id: id, [FIELDS.seq]: doc?.[FIELDS.seq], [FIELDS.fence]: { $not: { $gt: lease.fence } } }, update);
        if (result.matchedCount > 0) {
          await (await side()).updateOne({ _id: id }, { $unset: { t: '' } });
          // Under the same write lease as the writers: a document drained here cannot gain events before this.
          if (pending) await (rest.length === 0 ? pending.collection.deleteOne({ _id: id }) : pending.collection.updateOne({ _id: id }, { $set: { p: rest[0]!.c } }));
          return pull.length;
        }
        if (await fencedOut(col, id, lease.fence)) return -1;
      }
      // Not "nothing left to mark" (0): the relay would count them sent and leave the attempt
      // open, and three such runs would quarantine the document as a crash loop.
      await (await side()).updateOne({ _id: id, 't.seq': sent[0]!.seq }, { $inc: { 't.finished': 1, 't.unjudged': 1 } });
      return -2;
    });
  };

  /**
   * Pending documents oldest first, at most `limit`, without the quarantined ones (the relay
   * sends nothing of them until a redrive, so they must not take the places of those it can
   * relay): candidates are read in pages of `limit` (`page(skip)`, oldest first, by the index)
   * and checked against the side collection by `_id`, until `limit` are found or they end. One
   * that moved between pages (written or marked meanwhile) is listed once.
   */
  const unquarantined = async (limit: number, page: (skip: number) => Promise<Array<{ id: string; since: Date }>>): Promise<AggregateRef[]> => {
    const out: AggregateRef[] = [];
    const seen = new Set<string>();
    for (let skip = 0; out.length < limit; skip += limit) {
      const found = await page(skip);
      if (found.length === 0) break;
      const held = await readMany(await side(), found.map((f) => f.id), { q: 1 });
      for (const f of found) {
        if (out.length >= limit || seen.has(f.id) || (held.get(f.id) as SideDoc | undefined)?.q) continue;
        seen.add(f.id);
        out.push({ where: collectionName, aggregate: aggregateKey(aggregateType, f.id), since: f.since.getTime() });
      }
      if (found.length < limit) break;
    }
    return out;
  };

  /** FerretDB: the pending documents are the registry's entries (kept under the documents' write leases), no scan of the collection. */
  const listRegistered = (pending: PendingRegistry, limit: number, before: number): Promise<AggregateRef[]> =>
    unquarantined(limit, async (skip) => {
      const found = (await pending.collection.find({ p: { $lte: new Date(before) } }).sort({ p: 1 }).skip(skip).limit(limit).toArray()) as Array<{ _id: string; p: Date }>;
      return found.map((f) => ({ id: f._id, since: f.p }));
    });

  /** A registration whose document holds no pending event (its write did not match): dropped, under the write lease. */
  const dropStale = async (id: string, signal: AbortSignal | undefined): Promise<void> => {
    const pending = await registry();
    if (!pending) return;
    await serialised(await serialisation(), `outbox-write:${collectionName}:${id}`, signal, async () => {
      const doc = await (await collection()).findOne({ _id: id }, { projection: { [FIELDS.pendingSince]: 1 } });
      if (!(doc?.[FIELDS.pendingSince] instanceof Date)) await pending.collection.deleteOne({ _id: id });
    }).catch(() => undefined);
  };

  return {
    kind: 'mongo-embedded',
    leaseKey: (ref) => `outbox-relay:${collectionName}:${idOf(ref)}`,
    async listPending({ limit, before }) {
      const pending = await registry();
      if (pending) return listRegistered(pending, limit, before);
      const col = await collection();
      return unquarantined(limit, async (skip) => {
        const docs = await col
          .find({ [FIELDS.pendingSince]: { $lte: new Date(before) } }, { projection: { _id: 1, [FIELDS.pendingSince]: 1 } })
          .sort({ [FIELDS.pendingSince]: 1 })
          .skip(skip)
          .limit(limit)
          .toArray();
        return docs.map((d: Record<string, unknown>) => ({ id: String(d._id), since: d[FIELDS.pendingSince] as Date }));
      });
    },
    begin: (items, { limit, maxBytes }) => beginMany(items.map((i) => i.ref), limit, maxBytes),
    settle: (items, callOptions) => Promise.all(items.map((item) => settleOne(item, callOptions?.signal))),
    async quarantine(ref, { fromSeq, reason }) {
      const at = new Date();
      await (await side()).updateOne({ _id: idOf(ref) }, { $set: { q: { fromSeq, reason, at } } }, { upsert: true });
      return at.getTime();
    },
    async redrive(ref) {
      const id = idOf(ref);
      const sideCol = await side();
      const stored = (await sideCol.findOne({ _id: id }, { projection: { q: 1 } })) as { q?: unknown } | null;
      const found = stored && { q: stored.q === undefined ? undefined : storedQuarantine(stored.q) };
      if (stored && stored.q !== undefined && !found?.q) throw new QuarantineUnreadableError(collectionName, ref.aggregate, `${unreadableQuarantineReason(ref.aggregate, sideCol.collectionName, id)}: nothing was redriven (it was written by something other than the relay: repair or remove it by hand)`);
      if (!found?.q) return (await (await collection()).findOne({ _id: id }, { projection: { _id: 1 } })) || found ? 'not-quarantined' : 'unknown';
      if (!quarantineMatches(ref, found.q.fromSeq, found.q.at)) return 'quarantine-changed';
      // Under the redrive's lease (relay/redrive.ts): no other redrive of this quarantine runs
      // between this read and this write; conditional on the quarantine as read all the same.
      await sideCol.updateOne({ _id: id, 'q.fromSeq': found.q.fromSeq, 'q.at': found.q.at }, { $unset: { q: '', t: '' } });
      return 'redriven';
    },
    refIssue: ({ where, aggregate }) =>
      where !== collectionName
        ? { field: 'where', expected: `"${collectionName}", the collection of this outbox` }
        : !aggregate.startsWith(`${aggregateType}/`)
          ? { field: 'aggregate', expected: `an aggregate of type "${aggregateType}" (the documents of "${collectionName}")` }
          : undefined,
    async listQuarantined({ limit, onUnreadable, signal }) {
      const col = await side();
      return readQuarantines(
        col,
        limit,
        (id, q) => ({ where: collectionName, aggregate: aggregateKey(aggregateType, id), quarantinedAt: q.at.getTime(), fromSeq: q.fromSeq, reason: q.reason }),
        (id, idNotString) => {
          const aggregate = aggregateKey(aggregateType, id);
          onUnreadable?.({ where: collectionName, aggregate, code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: `${unreadableQuarantineReason(aggregate, col.collectionName, id, idNotString)}: left out of the listing` });
        },
        signal,
      );
    },
  };
}

/** The document's last marking token is newer than `fence`. */
function newerFence(doc: Record<string, unknown> | null | undefined, fence: number): boolean {
  const marked = doc?.[FIELDS.fence];
  return typeof marked === 'number' && marked > fence;
}
