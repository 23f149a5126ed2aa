/**
 * Review finding (fresh-eyes review, obx): embedded mode refuses an author's update that
 * touches the outbox's own `_outbox*` fields, but it only looked at the field names an
 * operator names, not where `$rename` moves a field to. `{ $rename: { note: '_outboxCount' } }`
 * passed, overwrote the pending-event counter with a string and answered `matched: true`:
 * the caps then read 0 pending events, and every later write with an event failed on `$inc`
 * of a string — the document could no longer record events. A `$rename` onto a field the
 * outbox also writes in that update failed with the server's raw conflict, and an operator
 * whose value is not an object (`{ $set: null }`) with a TypeError: both reached the caller as
 * a retryable 500 `INTERNAL`, so a queue redelivered a bad update until its DLQ. Both are now
 * `OUTBOX_EVENT_INVALID` (terminal) naming the field; nothing is written. FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { mongoEmbeddedOutbox, outbox } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useMongo } from './support.js';

const mongo = useMongo();

describe('embedded outbox: an author update that would write the outbox fields', () => {
  it('is refused, typed and terminal, whatever operator carries it; the document keeps working', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const orders = outbox({ events: { Noted: { aggregateType: 'order', schema: z.object({}) } }, store });
    const lines: string[] = [];
    const write = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (input: unknown, ctx) => {
      const { update, add } = input as { update: Record<string, unknown>; add: boolean };
      if (add) ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, update, { upsert: true });
    });
    const failure = (input: object) => write.invoke(input, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
    const doc = () => mongo.db.collection(collection).findOne({ _id: 'o-1' as never });

    await expect(write.invoke({ update: { $set: { status: 'new', note: 'abc' } }, add: true }, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true });
    const before = await doc();

    const refused: Array<[object, string]> = [
      [{ update: { $rename: { note: '_outboxCount' } }, add: false }, 'update.$rename.note'],
      [{ update: { $rename: { note: '_outboxAnswers.x' } }, add: false }, 'update.$rename.note'],
      [{ update: { $rename: { status: '_outboxSeq' } }, add: true }, 'update.$rename.status'],
      [{ update: { $set: null }, add: true }, 'update.$set'],
      [{ update: { $inc: [1] }, add: false }, 'update.$inc'],
    ];
    for (const [input, field] of refused) {
      expect(await failure(input)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
      // The log names the field (the caller's 500 does not: the function's own bug).
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field }] });
    }
    expect(await doc()).toEqual(before);

    // Renames elsewhere still work, and the document still records events.
    await expect(write.invoke({ update: { $rename: { note: 'remark' } }, add: true }, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true, events: [{ seq: 2 }] });
    expect(await doc()).toMatchObject({ remark: 'abc', _outboxCount: 2, _outboxSeq: 2 });
  });
});
