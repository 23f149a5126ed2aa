/**
 * Review finding (rvo2, item 4): the invocation's `outbox` log record was written only when
 * `recorded`, `sent`, `failed`, `held` or `inboxDuplicates` was not 0. A flush that found its
 * aggregate leased by another relay (an update that added no event of its own, of a document
 * with events pending) logged nothing — though the README says each invocation logs its record
 * and every run its `oldestPendingAgeMs`. It is now written when any metric is not 0. FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, type Sender } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();
const events = { Paid: { aggregateType: 'order', schema: z.object({}) } };

describe('the outbox log record', () => {
  it('is written when the only metric not 0 is leased', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    // An event left pending (an outbox without a relay).
    const pay = handler({ use: [outbox({ events, store })], logSink: () => undefined }, async (_i: unknown, ctx) => {
      ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } }, { upsert: true });
    });
    await expect(pay.invoke({}, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true });
    // Another relay holds the aggregate.
    const held = await mongo.lease.claim({ key: `outbox-relay:${collection}:o-1`, owner: randomUUID(), leaseMs: 60_000 });
    expect(held.claimed).toBe(true);

    const sends: number[] = [];
    const sender: Sender = {
      fifo: false,
      async send(messages) {
        sends.push(messages.length);
        throw new Error('not expected: the aggregate is leased');
      },
    };
    const lines: Array<Record<string, unknown>> = [];
    const view = handler(
      { use: [outbox({ events, store, relay: { sender, lease: mongo.lease } })], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>), logLevel: 'info' },
      async (_i: unknown, ctx) => ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { views: 1 } }),
    );
    await expect(view.invoke({}, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true, events: [] });
    expect(sends).toEqual([]);
    const records = lines.filter((l) => l.msg === 'outbox');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ recorded: 0, sent: 0, failed: 0, held: 0, leased: 1 });
  });

  it('is not written for an invocation the outbox did nothing in', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const lines: Array<Record<string, unknown>> = [];
    const idle = handler({ use: [outbox({ events, store })], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>), logLevel: 'info' }, async () => 'nothing');
    await expect(idle.invoke({})).resolves.toBe('nothing');
    expect(lines.filter((l) => l.msg === 'outbox')).toEqual([]);
  });
});
