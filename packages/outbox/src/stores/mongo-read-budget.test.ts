/**
 * What a relay round *reads* from the MongoDB stores, against `relay.maxBytesPerRound`,
 * counted on the wire: every `find` / `getMore` reply the driver receives (command monitoring)
 * is summed by the event bodies it carries. Both stores read through `readWithinBudget`
 * (relay/budget.ts): sizes first, then only the bodies the budget took.
 *
 * - transaction-mode store (its reads and marks run on any MongoDB-wire server: FerretDB here,
 *   with the events as its capture writes them, `eventDocument`; the capture itself needs a
 *   replica set and is in transaction-mode.test.ts): a round reads at most the budget of
 *   bodies, one event larger than it alone — it used to read each aggregate's first
 *   `maxEventsPerAggregate + 1` documents, bodies and all, before checking the budget;
 * - embedded outbox on FerretDB: at most the budget, or the round's first document alone.
 */
import { MongoClient, type CommandSucceededEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openMongo, openRedis, scriptedSender, type MongoBackend, type RedisBackend } from '../../test/support.js';
import { embeddedWrite } from '../capture/mongo-embedded.js';
import { prepareEvent, serializeEvent } from '../envelope.js';
import { MetricsRecorder } from '../relay/metrics.js';
import { DEFAULT_POISON } from '../relay/poison.js';
import { relayAggregates } from '../relay/relay.js';
import type { AggregateRef, RelayStore } from '../relay/types.js';
import { eventDocument, mongoTransactionOutbox } from './mongo-collection.js';
import { mongoEmbeddedOutbox } from './mongo-embedded.js';

const events = { Blob: { aggregateType: 'blob', schema: z.object({ n: z.number(), pad: z.string() }) } };
const KIB = 1024;
const BUDGET = 200 * KIB;
const blob = (id: string, n: number, bytes: number) => prepareEvent(events, { type: 'Blob', aggregateId: id, payload: { n, pad: 'x'.repeat(bytes) } }, {});

let mongo: MongoBackend;
let redis: RedisBackend;
let watched: MongoClient;
/** Body bytes in the replies received since the last reset. */
let bodyBytes = 0;
beforeAll(async () => {
  mongo = await openMongo();
  redis = await openRedis('redis');
  watched = new MongoClient(process.env.MONGODB_URI!, { monitorCommands: true });
  watched.on('commandSucceeded', (e: CommandSucceededEvent) => {
    if (e.commandName !== 'find' && e.commandName !== 'getMore') return;
    const cursor = (e.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
    for (const doc of (cursor?.firstBatch ?? cursor?.nextBatch ?? []) as Array<Record<string, unknown>>) {
      if (typeof doc.e === 'string') bodyBytes += Buffer.byteLength(doc.e);
      if (Array.isArray(doc._outbox)) for (const ev of doc._outbox as Array<{ e: string }>) bodyBytes += Buffer.byteLength(ev.e);
    }
  });
  await watched.connect();
});
afterAll(async () => {
  await watched?.close();
  await redis?.close();
  await mongo?.close();
});

/** The store, with each `begin` (one round's read) measured: body bytes received, and bytes it kept. */
function measured(store: RelayStore): { store: RelayStore; rounds: Array<{ received: number; kept: number; events: number }> } {
  const rounds: Array<{ received: number; kept: number; events: number }> = [];
  return {
    rounds,
    store: {
      ...store,
      async begin(items, options) {
        bodyBytes = 0;
        const heads = await store.begin(items, options);
        const kept = heads.flatMap((h) => h.events);
        rounds.push({ received: bodyBytes, kept: kept.reduce((s, e) => s + Buffer.byteLength(e.body), 0), events: kept.length });
        return heads;
      },
    },
  };
}

async function relayAll(store: RelayStore, refs: AggregateRef[]) {
  const sender = scriptedSender();
  const metrics = new MetricsRecorder();
  await relayAggregates({ store, lease: redis.lease, sender, metrics }, refs, { leaseMs: 10_000, maxEventsPerAggregate: 50, maxBytesPerRound: BUDGET, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 120_000 });
  return { sender, metrics: metrics.snapshot() };
}

describe('transaction-mode store on FerretDB: a round reads at most maxBytesPerRound of bodies', () => {
  it('reads sizes first and only the bodies it keeps (one event larger than the budget alone); all sent once, in order', { timeout: 120_000 }, async () => {
    const db = watched.db(mongo.db.databaseName);
    const name = 'outbox_budget';
    const { store, rounds } = measured(mongoTransactionOutbox({ client: watched as never, db: db as never, collection: name }).relay.withLease!(redis.lease));
    // 4 aggregates × 60 events of 20 KiB (the first aggregate's second event 300 KiB: larger than the budget).
    const ids = ['t0', 't1', 't2', 't3'];
    const docs = ids.flatMap((id) => Array.from({ length: 60 }, (_, i) => {
      const event = blob(id, i + 1, id === 't0' && i === 1 ? 300 * KIB : 20 * KIB);
      return eventDocument(event, `blob/${id}`, i + 1, serializeEvent(event, i + 1), new Date());
    }));
    await mongo.db.collection(name).insertMany(docs as never[]);
    const refs = ids.map((id) => ({ where: name, aggregate: `blob/${id}`, since: 0 }));

    const { sender, metrics } = await relayAll(store, refs);
    expect(metrics).toMatchObject({ sent: 240, quarantined: 0 });
    for (const round of rounds) {
      // What came over the wire is what the round kept: no body read and dropped.
      expect(round.received, JSON.stringify(round)).toBe(round.kept);
      expect(round.received <= BUDGET || round.events === 1, JSON.stringify(round)).toBe(true);
    }
    expect(rounds.some((r) => r.events === 1 && r.received > BUDGET)).toBe(true);
    for (const id of ids) expect(sender.accepted.filter((m) => m.groupKey === `blob/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it('an event stored without its size (b) is read alone, as a round\'s first, and still goes out in order', { timeout: 60_000 }, async () => {
    const db = watched.db(mongo.db.databaseName);
    const name = 'outbox_unsized';
    const { store, rounds } = measured(mongoTransactionOutbox({ client: watched as never, db: db as never, collection: name }).relay.withLease!(redis.lease));
    const docs = Array.from({ length: 4 }, (_, i) => {
      const event = blob('u0', i + 1, 10 * KIB);
      const { b: _b, ...unsized } = eventDocument(event, 'blob/u0', i + 1, serializeEvent(event, i + 1), new Date());
      return i === 2 ? unsized : { ...unsized, b: Buffer.byteLength(unsized.e) };
    });
    await mongo.db.collection(name).insertMany(docs as never[]);
    const { sender } = await relayAll(store, [{ where: name, aggregate: 'blob/u0', since: 0 }]);
    expect(sender.accepted.map((m) => Number(m.attributes!['steadyfn.seq']))).toEqual([1, 2, 3, 4]);
    expect(rounds.map((r) => r.events)).toEqual([2, 1, 1]);
  });
});

describe('embedded outbox on FerretDB: the same budgeted read, by document', () => {
  it('reads whole documents while their pending bytes fit (the first in any case); all sent once, in order', { timeout: 180_000 }, async () => {
    const outbox = mongoEmbeddedOutbox({ db: watched.db(mongo.db.databaseName) as never, collection: 'blobs', aggregateType: 'blob', writeLease: mongo.lease, writeWaitMs: 30_000 });
    const ids = ['e0', 'e1', 'e2', 'e3', 'e4'];
    for (const id of ids) {
      // 8 events of 15 KiB in two writes: 120 KiB pending per document — one document per 200 KiB round.
      for (let w = 0; w < 2; w++) {
        const batch = Array.from({ length: 4 }, (_, i) => blob(id, w * 4 + i + 1, 15 * KIB));
        await embeddedWrite(await outbox.collection(), 'blob', { filter: { _id: id }, update: { $inc: { n: 1 } }, upsert: true }, batch, outbox.limits, await outbox.serialisation(), undefined, await outbox.registry());
      }
    }
    const { store, rounds } = measured(outbox.relay);
    const { sender, metrics } = await relayAll(store, ids.map((id) => ({ where: 'blobs', aggregate: `blob/${id}`, since: 0 })));
    expect(metrics).toMatchObject({ sent: 40, quarantined: 0 });
    for (const round of rounds) expect(round.received <= BUDGET || round.kept === round.received, JSON.stringify(round)).toBe(true);
    expect(rounds.filter((r) => r.events > 0)).toHaveLength(5);
    for (const id of ids) expect(sender.accepted.filter((m) => m.groupKey === `blob/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
