/**
 * Review finding (obx, embedded relay round budget): `relay.maxBytesPerRound` is a budget of
 * body bytes (the Redis and transaction-mode stores count UTF-8 bytes), but the embedded store
 * spent it by `body.length` — UTF-16 code units, half the bytes of a body of emoji — and read
 * up to twice the budget. FerretDB: one document with three events of ~1.2 KB bodies, mostly
 * 4-byte emoji; a 2,500-byte budget reads two of them in one round, not three.
 */
import { handler } from '@steadyfn/handler';
import { aggregateKey, mongoEmbeddedOutbox, outbox } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useMongo } from './support.js';

const events = { Tick: { aggregateType: 'tick', schema: z.object({ pad: z.string() }) } };

const mongo = useMongo();

describe('the embedded relay spends its round budget in bytes', () => {
  it('reads only the events whose UTF-8 bodies fit in maxBytesPerRound', async () => {
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'ticks', aggregateType: 'tick', writeLease: mongo.lease });
    const write = handler({ use: [outbox({ events, store })], logSink: () => undefined }, async (_input, ctx) => {
      for (let i = 0; i < 3; i++) ctx.outbox.add({ type: 'Tick', aggregateId: 'r-1', payload: { pad: '😀'.repeat(200) } });
      await ctx.outbox.updateOne({ _id: 'r-1' }, { $inc: { n: 1 } }, { upsert: true });
    });
    await write.invoke({});
    const ref = { where: 'ticks', aggregate: aggregateKey('tick', 'r-1'), since: 0 };
    const [head] = await store.relay.begin([{ ref, lease: { key: 'k', owner: 'o', fence: 1 } }], { limit: 10, maxBytes: 2_500 });
    const bodies = head!.events.map((e) => Buffer.byteLength(e.body, 'utf8'));
    // Two bodies of 1-1.25 KB fit in 2,500 bytes; a third does not (it would, counted in UTF-16 units).
    expect(bodies.every((b) => b > 1_000 && b <= 1_250)).toBe(true);
    expect(head!.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(head!.more).toBe(true);
  });
});
