/**
 * Embedded mode on the real FerretDB: the operators it relies on, the atomicity FerretDB
 * lacks (and the write lease that makes up for it), caps, duplicates, failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MongoClient } from 'mongodb';
import { openMongo, type MongoBackend } from '../../test/support.js';
import { prepareEvent } from '../envelope.js';
import { FIELDS, isFerretDB, type CollectionLike } from '../stores/mongo-shapes.js';
import { embeddedWrite, type WriteSerialisation } from './mongo-embedded.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ n: z.number() }) } };
const paid = (id: string, n = 1) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: { n } }, {});
const limits = { maxPendingEvents: 5, maxPendingBytes: 64 * 1024, maxAppliedKeys: 3, maxAnswerBytes: 1024 };

describe('embedded mode on FerretDB', () => {
  let mongo: MongoBackend;
  let col: CollectionLike;
  let lease: WriteSerialisation;
  beforeAll(async () => {
    mongo = await openMongo();
    col = mongo.db.collection('orders') as unknown as CollectionLike;
    lease = { mode: 'lease', lease: mongo.lease, leaseMs: 10_000, waitMs: 5_000 };
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('is FerretDB, and runs every update operator embedded mode relies on ($slice is accepted but ignored)', async () => {
    expect(await isFerretDB(mongo.db as never)).toBe(true);
    const c = mongo.db.collection<{ _id: string; [k: string]: unknown }>('ops');
    await c.insertOne({ _id: 'x', a: [] });
    await c.updateOne({ _id: 'x' }, { $push: { a: { $each: [{ i: 1 }, { i: 2 }, { i: 3 }] } } as never, $min: { p: new Date(5) } });
    await c.updateOne({ _id: 'x' }, { $pullAll: { a: [{ i: 2 }] } as never });
    await c.updateOne({ _id: 'x' }, { $pop: { a: -1 } as never, $push: { k: { $each: ['k1', 'k2', 'k3'], $slice: -2 } } as never });
    // FerretDB 1.24 keeps all three: $slice is not applied, so embedded mode never relies on it.
    expect(await c.findOne({ _id: 'x' })).toEqual({ _id: 'x', a: [{ i: 3 }], p: new Date(5), k: ['k1', 'k2', 'k3'] });
  });

  it('characterises FerretDB 1.24: concurrent updates of one document lose writes (why the write lease exists)', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => new MongoClient(process.env.MONGODB_URI!).connect()));
    let multiWin = 0;
    let lostIncrements = 0;
    try {
      for (let t = 0; t < 3; t++) {
        await mongo.db.collection('race').insertOne({ _id: `r${t}` as never, v: 0, n: 0 });
        const on = (c: MongoClient) => c.db(mongo.db.databaseName).collection('race');
        const results = await Promise.all(clients.map((c) => on(c).updateOne({ _id: `r${t}` as never, v: 0 }, { $set: { v: 1 } })));
        if (results.filter((r) => r.modifiedCount === 1).length > 1) multiWin++;
        await Promise.all(clients.map(async (c) => { for (let k = 0; k < 10; k++) await on(c).updateOne({ _id: `r${t}` as never }, { $inc: { n: 1 } }); }));
        lostIncrements += 60 - ((await on(clients[0]!).findOne({ _id: `r${t}` as never }))!.n as number);
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    console.info(`FerretDB: filtered updateOne had several winners in ${multiWin}/3 trials; ${lostIncrements} of 180 concurrent $inc were lost`);
    // If a FerretDB release makes single-document updates atomic, this fails: then 'server' atomicity may be used there.
    expect(lostIncrements).toBeGreaterThan(0);
  });

  it('writes the update, the events (seq 1..n) and pendingSince in one document', async () => {
    await col.insertMany([{ _id: 'o-1', status: 'validated' }]);
    const r = await embeddedWrite(col, 'order', { filter: { _id: 'o-1', status: 'validated' }, update: { $set: { status: 'paid' } }, requestKey: 'req-1' }, [paid('o-1'), paid('o-1', 2)], limits, lease);
    expect(r).toMatchObject({ matched: true, duplicate: false, events: [{ seq: 1 }, { seq: 2 }] });
    const doc = await col.findOne({ _id: 'o-1' });
    expect(doc.status).toBe('paid');
    expect(doc[FIELDS.events].map((e: { s: number }) => e.s)).toEqual([1, 2]);
    expect(JSON.parse(doc[FIELDS.events][1].e)).toMatchObject({ seq: 2, aggregateId: 'o-1', payload: { n: 2 } });
    expect(doc[FIELDS.seq]).toBe(2);
    expect(doc[FIELDS.count]).toBe(2);
    expect(doc[FIELDS.pendingSince]).toBeInstanceOf(Date);
    expect(doc[FIELDS.applied]).toEqual(['req-1']);
  });

  it('skips a request key already applied: the crash between the write and the idempotency completion writes nothing twice', async () => {
    await col.insertMany([{ _id: 'o-2', n: 0 }]);
    const write = { filter: { _id: 'o-2' }, update: { $inc: { n: 1 } }, requestKey: 'delivery-7' };
    await embeddedWrite(col, 'order', write, [paid('o-2')], limits, lease);
    // The retry after the crash: same key, same update, same events.
    const again = await embeddedWrite(col, 'order', write, [paid('o-2')], limits, lease);
    expect(again).toMatchObject({ matched: true, duplicate: true, events: [] });
    const doc = await col.findOne({ _id: 'o-2' });
    expect(doc.n).toBe(1);
    expect(doc[FIELDS.events]).toHaveLength(1);
  });

  it('keeps a bounded list of applied keys', async () => {
    await col.insertMany([{ _id: 'o-3' }]);
    for (let i = 0; i < 5; i++) await embeddedWrite(col, 'order', { filter: { _id: 'o-3' }, update: { $set: { i } }, requestKey: `k${i}` }, [], limits, lease);
    expect((await col.findOne({ _id: 'o-3' }))[FIELDS.applied]).toEqual(['k2', 'k3', 'k4']);
  });

  it('fails clearly, writing nothing, when the document would pass its cap by count or bytes', async () => {
    await col.insertMany([{ _id: 'o-4', status: 'a' }]);
    // Its own events larger than the caps: terminal, an empty outbox would not take them either.
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-4' }, update: { $set: { status: 'b' } } }, Array.from({ length: 6 }, () => paid('o-4')), limits, lease)).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    const big = { Big: { aggregateType: 'order', schema: z.object({ s: z.string() }) } };
    const huge = prepareEvent(big, { type: 'Big', aggregateId: 'o-4', payload: { s: 'x'.repeat(70 * 1024) } }, {});
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-4' }, update: { $set: { status: 'b' } } }, [huge], limits, lease)).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID', message: expect.stringContaining('maxPendingBytes 65536') });
    expect(await col.findOne({ _id: 'o-4' })).toEqual({ _id: 'o-4', status: 'a' });
    // Fitting alone but not beside what is pending: the retryable "full", by count and by bytes.
    await embeddedWrite(col, 'order', { filter: { _id: 'o-4' }, update: { $set: { status: 'b' } } }, Array.from({ length: 5 }, () => paid('o-4')), limits, lease);
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-4' }, update: { $set: { status: 'c' } } }, [paid('o-4')], limits, lease)).rejects.toMatchObject({ code: 'OUTBOX_DOCUMENT_FULL', limit: 'count', retryable: true });
    await col.insertMany([{ _id: 'o-4b', status: 'a' }]);
    const half = () => prepareEvent(big, { type: 'Big', aggregateId: 'o-4b', payload: { s: 'x'.repeat(40 * 1024) } }, {});
    await embeddedWrite(col, 'order', { filter: { _id: 'o-4b' }, update: { $set: { status: 'b' } } }, [half()], limits, lease);
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-4b' }, update: { $set: { status: 'c' } } }, [half()], limits, lease)).rejects.toMatchObject({ code: 'OUTBOX_DOCUMENT_FULL', limit: 'bytes', message: expect.stringContaining('cap 65536') });
    expect(await col.findOne({ _id: 'o-4b' }, { projection: { status: 1 } })).toEqual({ _id: 'o-4b', status: 'b' });
  });

  it('a filter that no longer matches writes nothing (no event without state)', async () => {
    await col.insertMany([{ _id: 'o-5', status: 'dispatched' }]);
    const r = await embeddedWrite(col, 'order', { filter: { _id: 'o-5', status: 'validated' }, update: { $set: { status: 'paid' } } }, [paid('o-5')], limits, lease);
    expect(r).toMatchObject({ matched: false });
    expect(await col.findOne({ _id: 'o-5' })).toEqual({ _id: 'o-5', status: 'dispatched' });
  });

  it('a state update the server refuses writes no event either (one update)', async () => {
    await col.insertMany([{ _id: 'o-6', name: 'text' }]);
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-6' }, update: { $inc: { name: 1 } } }, [paid('o-6')], limits, lease)).rejects.toThrow();
    expect(await col.findOne({ _id: 'o-6' })).toEqual({ _id: 'o-6', name: 'text' });
  });

  it('an event that cannot be serialised writes no state either', async () => {
    await col.insertMany([{ _id: 'o-7', status: 'a' }]);
    const loose = { Any: { aggregateType: 'order', schema: z.any() } };
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-7' }, update: { $set: { status: 'b' } } }, [prepareEvent(loose, { type: 'Any', aggregateId: 'o-7', payload: 1n }, {})], limits, lease)).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await col.findOne({ _id: 'o-7' })).toEqual({ _id: 'o-7', status: 'a' });
  });

  it('refuses updates that touch _outbox fields or events of another aggregate', async () => {
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-8' }, update: { $set: { _outboxSeq: 0 } } }, [], limits, lease)).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-8' }, update: { $set: { a: 1 } } }, [paid('other')], limits, lease)).rejects.toThrow(/belongs to order\/other/);
  });

  it('refuses to run on FerretDB without a write lease, saying why', async () => {
    await expect(embeddedWrite(col, 'order', { filter: { _id: 'o-9' }, update: { $set: { a: 1 } } }, [], limits, { mode: 'lease', leaseMs: 1000, waitMs: 0 })).rejects.toMatchObject({ code: 'OUTBOX_SERVER_UNSUPPORTED' });
  });

  it('with the write lease, concurrent writers of one document neither lose nor duplicate: one wins the transition, seq stays dense', async () => {
    for (let t = 0; t < 4; t++) {
      const id = `race-${t}`;
      await col.insertMany([{ _id: id, status: 'validated' }]);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, w) => embeddedWrite(col, 'order', { filter: { _id: id, status: 'validated' }, update: { $set: { status: 'paid', by: w } } }, [paid(id, w)], limits, lease)),
      );
      expect(results.filter((r) => r.matched)).toHaveLength(1);
      // Unconditional appenders: every event kept, seq 2..9 dense.
      await Promise.all(Array.from({ length: 6 }, (_, w) => embeddedWrite(col, 'order', { filter: { _id: id }, update: { $inc: { n: 1 } } }, [paid(id, w)], { ...limits, maxPendingEvents: 100 }, lease)));
      const doc = await col.findOne({ _id: id });
      expect(doc.n).toBe(6);
      expect(doc[FIELDS.events].map((e: { s: number }) => e.s)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
  });
});
