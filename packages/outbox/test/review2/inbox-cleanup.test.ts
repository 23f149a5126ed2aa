/**
 * Review finding (inbox on FerretDB): `inboxCleanup({ collection, limit })`, the README's
 * cleanup for servers without TTL indexes, deleted records by an `expiresAt` field — but the
 * `mongoStore` records are `@steadyfn/lease` generations (`k`, `g`, `e`, `p`, …) with no such
 * field, so it deleted nothing, ever: the inbox collection grew without bound. Its own test
 * passed on hand-made documents of the invented layout. `inboxCleanup({ store })` now runs the
 * store's `purge()` (the lease store alone judges what is purgeable); here on the real server,
 * with records handled by the inbox and then aged past the store's retention.
 */
import { handler } from '@steadyfn/handler';
import { mongoStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inbox, inboxCleanup, prepareEvent, serializeEvent } from '../../src/index.js';
import { useMongo } from '../support.js';

const mongo = useMongo();

const events = { Shipped: { aggregateType: 'order', schema: z.object({}) } };
const envelope = (aggregateId: string, seq: number) => JSON.parse(serializeEvent(prepareEvent(events, { type: 'Shipped', aggregateId, payload: {} }, {}), seq)) as unknown;

describe('inboxCleanup on FerretDB', () => {
  it('deletes the records of handled events once past the retention, and keeps the live ones', async () => {
    const collection = mongo.db.collection<{ _id: string; k: string; e: Date; p: Date; c: Date }>('inbox');
    const store = mongoStore({ collection });
    const ship = handler({ use: [inbox({ store, consumer: 'shipping' })], logSink: () => undefined }, async (_input, ctx) => ctx.inbox.event.seq);
    for (let seq = 1; seq <= 3; seq++) await ship.invoke(envelope('old', seq), { deliveryId: `old-${seq}` });
    const oldRecords = await collection.countDocuments({});
    expect(oldRecords).toBeGreaterThanOrEqual(6); // an event key and a seq marker per event
    // Three hours pass for these records (past retentionMs, past the store's retainMs of 1 h).
    const past = new Date(Date.now() - 3 * 3_600_000);
    await collection.updateMany({}, { $set: { e: past, p: past, c: past } });
    await ship.invoke(envelope('live', 1), { deliveryId: 'live-1' });
    const live = (await collection.countDocuments({})) - oldRecords;

    const deleted = await inboxCleanup({ store });
    expect(deleted).toBe(oldRecords);
    expect(await collection.countDocuments({})).toBe(live);
    expect(await inboxCleanup({ store })).toBe(0);
  });

  it('is bounded: batchSize records per delete, at most maxDeletes per call, the rest on the next run', async () => {
    const collection = mongo.db.collection<{ _id: string; k: string; e: Date; p: Date; c: Date }>('inbox-bounded');
    const past = new Date(Date.now() - 3 * 3_600_000);
    await collection.insertMany(Array.from({ length: 7 }, (_, i) => ({ _id: `old:${i}#1`, k: `old:${i}`, g: 1, s: 'd', o: 'a', d: 'x', e: past, p: past, c: past })));
    const sent: unknown[] = [];
    const store = mongoStore({ collection });
    const watched = { purge: (options?: Parameters<typeof store.purge>[0]) => (sent.push(options), store.purge(options)) };
    expect(await inboxCleanup({ store: watched, batchSize: 2, maxDeletes: 5 })).toBe(5);
    expect(sent).toEqual([{ batchSize: 2, maxDeletes: 5 }]);
    expect(await collection.countDocuments({})).toBe(2);
    expect(await inboxCleanup({ store, batchSize: 2, maxDeletes: 5 })).toBe(2);
    await expect(inboxCleanup({ store, maxDeletes: 0 })).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'maxDeletes' });
  });

  it('refuses a collection where the store goes, naming the option', async () => {
    await expect(inboxCleanup({ collection: mongo.db.collection('inbox') } as never)).rejects.toMatchObject({ name: 'ConfigurationError', field: 'store' });
  });
});
