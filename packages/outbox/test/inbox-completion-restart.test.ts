/**
 * The inbox's completion that meets a store restart is retried while the lease lasts, as
 * idempotency's is (packages/idempotency/test/batch-completion-restart.test.ts). Found by a
 * storm: the message was acknowledged with the event record left in progress, so SQS's
 * at-least-once redelivery after the lease ran the consumer's effect a second time.
 *
 * The Redis is this file's own (`appendfsync always`: the claims survive a kill); the client
 * fails at once while disconnected (`enableOfflineQueue: false`, as @steadyfn/connections'
 * profile does), so the completion in the inbox's `after` fails while the server is down. The
 * server is killed inside the function (after its effect) and started again after the
 * handler answered.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { eventually } from '../../../test/support/wait.js';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { restartableRedis, type RestartableRedis } from './restartable-redis.js';
import { lambdaContext, sqsRecord } from './support.js';

const LEASE_MS = 4_000;
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };

let redisUnderTest: RestartableRedis | undefined;
afterAll(async () => {
  await redisUnderTest?.close();
});

describe('an inbox completion that fails while the store restarts', () => {
  it('is retried until the store is back: the redelivery after the lease is a duplicate, the effect ran once', async () => {
    redisUnderTest = await restartableRedis('inbox-restart');
    const { server: own, client: redis, store } = redisUnderTest;

    const effects: string[] = [];
    const lines: string[] = [];
    let stopped: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    let ranAt = 0;
    const ship = handler(
      { name: 'ship', logLevel: 'info', logSink: (line) => void lines.push(line), use: [inbox({ store, consumer: `shipping-${randomUUID()}`, leaseMs: LEASE_MS })] },
      async (_input, ctx) => {
        ranAt = Date.now();
        effects.push(ctx.inbox.event.id);
        // The server dies after the effect, before the inbox completes, and is back only after the answer.
        stopped ??= own.stop();
        restarted ??= stopped.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          await own.start();
        });
        await stopped;
      },
    );

    const body = serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {}), 1);
    const messageId = randomUUID();
    // The effect happened: the message is not failed back to the queue.
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(redis.status, 'the completion met the server down').not.toBe('ready');
    expect(lines.some((l) => l.includes('inbox record could not be completed'))).toBe(true);
    await restarted;
    await eventually(() => redis.status === 'ready', 5_000);

    // SQS delivers the same message again once its claim's lease is over (the lease began in
    // `before`, before `ranAt`). Without the retry, the record expired in progress with its
    // lease, and this delivery would run the effect again.
    await eventually(() => Date.now() > ranAt + LEASE_MS + 250, LEASE_MS + 5_000, 100);
    const seen = lines.length;
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId, attempt: 2 })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(effects).toHaveLength(1);
    expect(lines.slice(seen).some((l) => l.includes('inbox duplicate'))).toBe(true);
  }, 30_000);
});
