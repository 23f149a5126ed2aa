/**
 * Review finding (rvo, s51): `relayWatchdog()` resolved when nothing was relayed — the aggregate
 * it names held by another relay's lease (`leased: 1`; a relay killed mid-flush keeps its lease
 * for `relay.leaseMs`) or SQS unreachable (`failed: 1`, unjudged). The README's consumer then
 * returned, SQS deleted the watchdog message, and recovery fell back to the sweeper. It now
 * rejects with `OUTBOX_RELAY_INCOMPLETE` (503, retryable, counts only) so the relay queue
 * delivers the message again; a quarantined aggregate is done and resolves. Redis + moto, the
 * watchdog message as the relay queue delivers it.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox, type Sender } from '@steadyfn/outbox';
import { outboxWatchdog, sqsSender } from '@steadyfn/outbox/sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { receiveAll } from './sqs-servers.js';
import { createQueue, drainQueue, runId, scriptedSender, useRedisAndSqs } from './support.js';

const servers = useRedisAndSqs();
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
const incomplete = { code: 'OUTBOX_RELAY_INCOMPLETE', retryable: true, message: expect.stringContaining('1 of the 1 aggregates') };

/** A write of one event on `id` under `sender` (its flush fails likewise), `during` run inside; then the watchdog message from the relay queue. */
async function setup(id: string, sender: (queueUrl: string) => Sender, during: (store: ReturnType<typeof redisOutbox>) => Promise<void> = async () => undefined) {
  const { redis, sqs } = servers;
  const q = await createQueue(sqs);
  const relayQueue = await createQueue(sqs);
  cleanups.push(q.remove, relayQueue.remove);
  const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}${runId()}:` });
  const box = outbox({ name: 'orders', events, store, relay: { sender: sender(q.url), lease: redis.lease }, watchdog: outboxWatchdog({ client: sqs, queueUrl: relayQueue.url, delayMs: 0 }) });
  await handler({ use: [box], logSink: () => undefined }, async (_input, ctx) => {
    ctx.outbox.call('HSET', `${redis.prefix}order:{${id}}`, 'status', 'paid');
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
    await during(store);
  }).invoke({});
  const [message] = await receiveAll(sqs, relayQueue.url, 1);
  expect(message?.Body).toContain(id);
  const consumer = handler({ use: [box], logSink: () => undefined }, (body, ctx) => box.relayWatchdog(ctx, body));
  return { q, store, consumer, body: message!.Body! };
}

describe('the watchdog message is not used up while its aggregates still have events pending', () => {
  it("rejects (503, retryable) while another relay's lease holds the aggregate; delivers once it is free", { timeout: 60_000 }, async () => {
    const { redis, sqs } = servers;
    let leaseKey = '';
    let fence = 0;
    const { q, consumer, body } = await setup('wd-9', (url) => sqsSender({ client: sqs, queueUrl: url }), async (store) => {
      // A relay killed mid-flush: its lease outlives it.
      leaseKey = (store as unknown as { relay: { leaseKey(ref: object): string } }).relay.leaseKey({ where: 'wd-9', aggregate: 'order/wd-9' });
      const held = await redis.lease.claim({ key: leaseKey, owner: 'dead-relay', leaseMs: 30_000 });
      expect(held.claimed).toBe(true);
      fence = (held as { fence: number }).fence;
    });
    await expect(consumer.invoke(body)).rejects.toMatchObject(incomplete);
    expect(await drainQueue(sqs, q.url, 1)).toHaveLength(0);
    // Its lease let go (as when it lapses): the redelivered message relays the event.
    await redis.lease.settleMany([{ key: leaseKey, owner: 'dead-relay', fence }]);
    await expect(consumer.invoke(body)).resolves.toMatchObject({ sent: 1 });
    expect((await drainQueue(sqs, q.url)).map((m) => JSON.parse(m.Body!).aggregateId)).toEqual(['wd-9']);
  });

  it('rejects while the queue cannot be reached; nothing names the event beyond counts', { timeout: 60_000 }, async () => {
    const unreachable = new SQSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    cleanups.push(async () => unreachable.destroy());
    const { consumer, body } = await setup('wd-10', (url) => sqsSender({ client: unreachable, queueUrl: url }));
    const error = await consumer.invoke(body).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toMatchObject(incomplete);
    expect(error!.message).not.toContain('wd-10');
  });

  it('resolves for a quarantined aggregate (held for a redrive, nothing to send now)', { timeout: 60_000 }, async () => {
    const { consumer, body } = await setup('wd-11', () => scriptedSender(() => 'fault'));
    await expect(consumer.invoke(body)).resolves.toMatchObject({ sent: 0 });
  });
});
