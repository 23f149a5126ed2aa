/**
 * KanishJebaMathewM/Truxify#13492 / #13133 / #13680 ("outboxRelayWorker marks messages
 * published even when publish fails") and Particular/docs.particular.net#1816 (the mirror
 * case: duplicates when marking dispatched fails after a publish)
 * https://github.com/KanishJebaMathewM/Truxify/issues/13492
 *
 * A hand-rolled outbox relay set the row's published flag whatever the broker answered (its
 * event-bus `emit` swallowed the failure), so an event whose publish failed was never retried:
 * the outbox had committed it and then silently dropped it.
 *
 * steadyfn's relay marks only what SQS accepted. Replayed on real servers (Redis for the outbox,
 * moto for SQS): a function commits an event while SQS fails its `SendMessageBatch` (a 500
 * through the outbox tests' fault proxy) and, on a second aggregate, while its relay's queue
 * does not exist; each invocation still answers (the write committed), the events stay
 * pending; a sweeper whose queue works then delivers each exactly once, leaving nothing pending.
 */
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsSender } from '../../packages/outbox/src/sqs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, drainQueue, lambdaContext, parseDelivered, pendingIn, redisWriter, replayQueues, runCtx, sqsClient, useRedis } from '../../packages/outbox/test/support.js';

const redis = useRedis('redis');

describe('Truxify#13492: an event whose publish failed is not marked sent', () => {
  let sqs: SQSClient;
  const removals: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    sqs = await sqsClient('moto');
  });
  afterAll(async () => {
    for (const remove of removals.reverse()) await remove().catch(() => undefined);
  });
  const { proxied } = replayQueues(() => sqs, removals);

  it('the refused events stay pending and the next sweep delivers each once', async () => {
    const live = await createQueue(sqs);
    removals.push(live.remove);
    const gone = await createQueue(sqs);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: gone.url }));

    // SQS answers every SendMessageBatch with a 500: the publish failed.
    const failing = redisWriter(redis, await proxied(live.url, () => ({ status: 500, type: 'InternalError' })));
    expect(await failing.write.aws({ agg: 'order-1', n: 7 }, lambdaContext())).toEqual({ recorded: 1 });
    expect(await pendingIn(redis, 'order-1')).toBe(1);
    // The relay's queue does not exist (deleted, or not created yet).
    const missing = redisWriter(redis, sqsSender({ client: sqs, queueUrl: gone.url, retry: { retries: 0 } }));
    expect(await missing.write.aws({ agg: 'order-2', n: 8 }, lambdaContext())).toEqual({ recorded: 1 });
    expect(await pendingIn(redis, 'order-2')).toBe(1);

    const healthy = redisWriter(redis, sqsSender({ client: sqs, queueUrl: live.url }));
    const swept = await healthy.box.sweep(runCtx());
    expect(swept.metrics.sent).toBe(2);
    expect([await pendingIn(redis, 'order-1'), await pendingIn(redis, 'order-2')]).toEqual([0, 0]);
    const delivered = (await drainQueue(sqs, live.url)).map(parseDelivered);
    expect(delivered.map((d) => [d.aggregateId, (d as unknown as { payload: { n: number } }).payload.n]).sort()).toEqual([['order-1', 7], ['order-2', 8]]);
    // A second sweep finds nothing left to send: no duplicate.
    expect((await healthy.box.sweep(runCtx())).metrics.sent).toBe(0);
  });
});
