/**
 * Review finding (fresh-eyes review, obx): an embedded update with `upsert: true` whose filter
 * names a state (`{ _id, status: 'new' }`) failed on a document that exists in another state
 * with a retryable `OUTBOX_WRITE_CONFLICT` ("concurrent writers kept changing this
 * document"), after five rounds, although nobody else wrote. The server answers such an
 * upsert with a duplicate `_id` (E11000: no document matched, so it inserts, and `_id` is
 * taken), and every duplicate was taken for two upserts of a new document racing — read
 * again and retry, five times. A queue redelivered the message until its DLQ; an HTTP caller
 * was told to retry a request that can never match. The duplicate is now judged like any
 * update that matched nothing: the document did not exist when read (a racing upsert) → read
 * again; it did and its seq did not move → `{ matched: false }`, nothing written. FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler, SteadyError } from '@steadyfn/handler';
import { mongoEmbeddedOutbox, outbox } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useMongo } from './support.js';

const mongo = useMongo();

describe('embedded outbox: a conditional upsert of a document that exists in another state', () => {
  it('does not match (nothing written), is not a retryable conflict; of upserts racing on a new document one inserts, the others match nothing', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease, writeWaitMs: 10_000 });
    const orders = outbox({ events: { Opened: { aggregateType: 'order', schema: z.object({}) } }, store });
    const open = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { id } = input as { id: string };
      ctx.outbox.add({ type: 'Opened', aggregateId: id, payload: {} });
      const result = await ctx.outbox.updateOne({ _id: id, status: 'new' }, { $set: { status: 'open' }, $inc: { opened: 1 } }, { upsert: true });
      // As the README's sample does: no match, nothing written — the function says so.
      if (!result.matched) throw new SteadyError('ORDER_NOT_NEW', `order ${id} is not new`, { status: 409, retryable: false });
      return { upserted: result.upserted, seqs: result.events.map((e) => e.seq) };
    });
    const doc = (id: string) => mongo.db.collection(collection).findOne({ _id: id as never }, { projection: { status: 1, opened: 1, _outboxSeq: 1, _outboxCount: 1 } });

    const outcome = (id: string): Promise<Record<string, unknown>> =>
      open.invoke({ id }, { deliveryId: randomUUID() }).then(
        (r) => r as Record<string, unknown>,
        (e: { code: string; retryable: boolean }) => ({ code: e.code, retryable: e.retryable }),
      );
    await expect(outcome('o-1')).resolves.toEqual({ upserted: true, seqs: [1] });
    // Now 'open', not 'new': the filter cannot match, and the upsert cannot insert.
    await expect(outcome('o-1')).resolves.toEqual({ code: 'ORDER_NOT_NEW', retryable: false });
    expect(await doc('o-1')).toEqual({ _id: 'o-1', status: 'open', opened: 1, _outboxSeq: 1, _outboxCount: 1 });

    // Upserts of one new document at once: one inserts, the others read again and match nothing (it is 'open').
    const results = await Promise.all(Array.from({ length: 4 }, () => outcome('o-2')));
    expect(results.filter((r) => 'seqs' in r)).toEqual([{ upserted: true, seqs: [1] }]);
    expect(results.filter((r) => !('seqs' in r))).toEqual(Array.from({ length: 3 }, () => ({ code: 'ORDER_NOT_NEW', retryable: false })));
    expect(await doc('o-2')).toEqual({ _id: 'o-2', status: 'open', opened: 1, _outboxSeq: 1, _outboxCount: 1 });
  });
});
