/**
 * Review finding (rvo2, S1): with atomicity 'server', the embedded relay's mark is conditional on
 * the document's seq as read; when writers moved the seq before each of its 5 tries it gave up and
 * answered 0, the answer for "nothing left to mark". The relay then counted the events sent
 * (still pending in the document) and left the head's attempt open: three such flushes of a hot
 * document and the fourth quarantined it as a crash loop ("3 relay attempts never finished").
 * A give-up now ends the attempt unjudged (it counts toward neither maxAttempts nor
 * maxUnfinishedAttempts) and is reported as not marked: nothing counted sent, sent again by a
 * later run. FerretDB, the writers injected between the mark's read and its update.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, type Sender } from '../src/index.js';
import { useMongo, withUpdateOneHook } from './support.js';

const mongo = useMongo();
const events = { Noted: { aggregateType: 'order', schema: z.object({}) } };

describe('embedded relay: a mark that gives up after the seq kept moving', () => {
  it('is not counted sent nor left an unfinished attempt: the hot document is never quarantined', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const plain = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', atomicity: 'server' });
    // Another writer of the document: one event per invocation.
    const writer = handler({ use: [outbox({ events, store: plain })], logSink: () => undefined }, async (_i: unknown, ctx) => {
      ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { other: 1 } }, { upsert: true });
    });
    let interfere = 0;
    const db = withUpdateOneHook(mongo.db, collection, async (args) => {
      // The relay's mark ($pullAll): another write lands between its read and its update.
      if (interfere > 0 && (args[1] as Record<string, unknown>).$pullAll) {
        interfere--;
        await writer.invoke({}, { deliveryId: randomUUID() });
      }
    });
    const store = mongoEmbeddedOutbox({ db, collection, aggregateType: 'order', atomicity: 'server' });
    const queued: string[] = [];
    const sender: Sender = {
      fifo: true,
      async send(messages) {
        queued.push(...messages.map((m) => m.id));
        return { sent: messages.map((m) => ({ id: m.id })), failed: [], batches: 1, fill: { entries: messages.length / 10, bytes: 0.01 }, retries: 0 };
      },
    };
    const lines: Array<Record<string, unknown>> = [];
    const relayed = outbox({ events, store, relay: { sender, lease: mongo.lease, poison: { maxUnfinishedAttempts: 3 } } });
    const note = handler({ use: [relayed], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>), logLevel: 'info' }, async (_i: unknown, ctx) => {
      ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { n: 1 } }, { upsert: true });
    });

    // Three flushes whose mark meets a moved seq on each of its 5 tries.
    for (let i = 0; i < 3; i++) {
      interfere = 5;
      await expect(note.invoke({}, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true });
      expect(interfere).toBe(0);
    }
    const records = lines.filter((l) => l.msg === 'outbox');
    expect(records).toHaveLength(3);
    // SQS took them, but nothing was marked: none is counted sent, every one is still pending.
    for (const record of records) expect(record).toMatchObject({ recorded: 1, sent: 0 });
    expect(lines.filter((l) => l.level === 'warn' && String(l.msg).includes('its document kept changing'))).toHaveLength(3);
    const pending = await mongo.db.collection(collection).findOne({ _id: 'o-1' as never });
    expect(pending?._outboxCount).toBe(18);
    // The head's attempts ended (unjudged): none is open.
    const side = await mongo.db.collection(`${collection}_outbox`).findOne({ _id: 'o-1' as never });
    expect(side?.t).toMatchObject({ seq: 1, started: 3, finished: 3, unjudged: 3 });

    // A fourth flush, undisturbed: everything goes out and is marked; nothing quarantined.
    await expect(note.invoke({}, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true });
    expect(lines.filter((l) => l.msg === 'outbox').at(-1)).toMatchObject({ recorded: 1, sent: 19, quarantined: 0 });
    expect(await store.relay.listQuarantined({ limit: 10 })).toEqual([]);
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-1' as never })).toMatchObject({ n: 4, other: 15, _outboxCount: 0 });
  });
});
