/**
 * Review finding (obx, watchdog consumer input): `relayWatchdog(ctx, message)` read the keys of
 * this outbox's watchdog message without checking them — a key that was not
 * `JSON.stringify([where, aggregate])` was skipped silently (the rest relayed), and one naming
 * another outbox's partition or an undeclared aggregate type was relayed as given. The same for
 * `flushTargets(ctx, refs)`. Both now check everything up front and refuse with
 * `OUTBOX_RELAY_TARGET_INVALID` (400, terminal) naming the field and what was expected; nothing
 * is relayed. Redis outbox, moto SQS.
 */
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, drainQueue, useRedisAndSqs } from './support.js';

const servers = useRedisAndSqs();
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const quietLog = { debug() {}, info() {}, warn() {}, error() {} };
const runCtx = () => ({ signal: new AbortController().signal, remainingMs: () => 60_000, log: quietLog as never });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const key = (where: string, aggregate: string) => JSON.stringify([where, aggregate]);
const message = (keys: unknown) => JSON.stringify({ watchdog: 1, outbox: 'orders', keys });
const refusal = (field: string) => ({ code: 'OUTBOX_RELAY_TARGET_INVALID', status: 400, retryable: false, field, issues: [expect.objectContaining({ field, expected: expect.any(String) })] });

async function setup() {
  const { redis, sqs } = servers;
  const q = await createQueue(sqs);
  cleanups.push(q.remove);
  // No flush: the event stays pending for the consumer entry points.
  const box = outbox({ name: 'orders', events, store: redisOutbox({ client: redis.client, prefix: redis.prefix }), relay: { sender: sqsSender({ client: sqs, queueUrl: q.url }), lease: redis.lease, flush: false } });
  const pay = handler({ use: [box], logSink: () => undefined }, async (_input, ctx) => {
    ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'status', 'paid');
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
  });
  await pay.invoke({});
  return { box, onQueue: async () => (await drainQueue(sqs, q.url, 1)).length };
}

describe('relayWatchdog checks the keys of its outbox\'s message before relaying', () => {
  it('refuses a message with a key it cannot read, a foreign partition or an undeclared aggregate type; relays nothing; a good one relays', async () => {
    const { box, onQueue } = await setup();
    const good = key('o-1', 'order/o-1');
    await expect(box.relayWatchdog(runCtx(), message([good, 'not json']))).rejects.toMatchObject(refusal('keys[1]'));
    await expect(box.relayWatchdog(runCtx(), message([good, key('o-1', 'order/o-1').slice(1)]))).rejects.toMatchObject(refusal('keys[1]'));
    await expect(box.relayWatchdog(runCtx(), message([good, 42]))).rejects.toMatchObject(refusal('keys[1]'));
    await expect(box.relayWatchdog(runCtx(), message([key('{o-1}', 'order/o-1')]))).rejects.toMatchObject(refusal('keys[0].where'));
    await expect(box.relayWatchdog(runCtx(), message([good, key('o-1', 'invoice/o-1')]))).rejects.toMatchObject(refusal('keys[1].aggregate'));
    await expect(box.relayWatchdog(runCtx(), message(good))).rejects.toMatchObject(refusal('keys'));
    await expect(box.relayWatchdog(runCtx(), message(Array.from({ length: 101 }, () => good)))).rejects.toMatchObject(refusal('keys'));
    expect(await onQueue()).toBe(0);

    // Another outbox's message, or none at all: not this consumer's, answered undefined.
    expect(await box.relayWatchdog(runCtx(), JSON.stringify({ watchdog: 1, outbox: 'invoices', keys: ['garbled'] }))).toBeUndefined();
    expect(await box.relayWatchdog(runCtx(), '{"not":"a watchdog"}')).toBeUndefined();

    expect((await box.relayWatchdog(runCtx(), message([good])))?.sent).toBe(1);
    expect(await onQueue()).toBe(1);
  });
});

describe('flushTargets checks its refs before relaying', () => {
  it('refuses refs that are not { where, aggregate, since? } of this outbox; relays nothing; good refs relay', async () => {
    const { box, onQueue } = await setup();
    const good = { where: 'o-1', aggregate: 'order/o-1', since: 0 };
    await expect(box.flushTargets(runCtx(), 'o-1' as never)).rejects.toMatchObject(refusal('refs'));
    await expect(box.flushTargets(runCtx(), [good, null] as never)).rejects.toMatchObject(refusal('refs[1]'));
    await expect(box.flushTargets(runCtx(), [good, { ...good, fromSeq: 1 }] as never)).rejects.toMatchObject(refusal('refs[1].fromSeq'));
    await expect(box.flushTargets(runCtx(), [{ ...good, where: '' }])).rejects.toMatchObject(refusal('refs[0].where'));
    await expect(box.flushTargets(runCtx(), [good, { ...good, aggregate: 'order/' }])).rejects.toMatchObject(refusal('refs[1].aggregate'));
    await expect(box.flushTargets(runCtx(), [{ ...good, since: -1 }])).rejects.toMatchObject(refusal('refs[0].since'));
    expect(await onQueue()).toBe(0);

    expect((await box.flushTargets(runCtx(), [{ where: 'o-1', aggregate: 'order/o-1' } as never])).sent).toBe(1);
    expect(await onQueue()).toBe(1);
  });
});
