/**
 * The inbox's completion that meets a store restart is retried while the lease lasts, as
 * idempotency's is (packages/idempotency/test/batch-completion-restart.test.ts). Found by a
 * storm: the message was acknowledged with the event record left in progress, so SQS's
 * at-least-once redelivery after the lease ran the consumer's effect a second time.
 *
 * The Redis is this file's own (`appendfsync always`: the claims survive a kill); the client
 * fails at once while disconnected (`enableOfflineQueue: false`, as @steadyfn/connections'
 * profile does), so the completion in the inbox's `after` fails while the server is down. The
 * server is killed inside the function (after its effect) and started again once the handler
 * has answered — not after a fixed pause, which a slow answer on a loaded machine outlasted.
 *
 * The completion is retried only while the lease lasts: when the server was provably back too
 * late for that (ready later than `lease − 1.5 s` after the delivery: the retries are 500 ms
 * apart), the case runs again with a longer lease (`inWindow`); a failure with the server back in
 * time is the test's.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { eventually } from '../../../test/support/wait.js';
import { inWindow, sleepUntil } from '../../../test/support/window.js';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { restartableRedis, type RestartableRedis } from './restartable-redis.js';
import { lambdaContext, sqsRecord } from './support.js';

/** The leases tried, shortest first: a longer one only when the restart was too slow for the last. */
const LEASES_MS = [4_000, 8_000, 16_000];
/** How long before the lease's end the server must be back for the retries (500 ms apart) to surely reach it. */
const RETRY_ROOM_MS = 1_500;
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };

let redisUnderTest: RestartableRedis | undefined;
afterAll(async () => {
  await redisUnderTest?.close();
});

describe('an inbox completion that fails while the store restarts', () => {
  it('is retried until the store is back: the redelivery after the lease is a duplicate, the effect ran once', async () => {
    redisUnderTest = await restartableRedis('inbox-restart');
    const { server: own, client: redis, store } = redisUnderTest;

    await inWindow(LEASES_MS, async (lease) => {
      const effects: string[] = [];
      const lines: string[] = [];
      let stopped: Promise<void> | undefined;
      let ranAt = 0;
      const ship = handler(
        { name: 'ship', logLevel: 'info', logSink: (line) => void lines.push(line), use: [inbox({ store, consumer: `shipping-${randomUUID()}`, leaseMs: lease.ms })] },
        async (_input, ctx) => {
          ranAt = Date.now();
          effects.push(ctx.inbox.event.id);
          // The server dies after the effect, before the inbox completes, and is back only after the answer.
          stopped ??= own.stop();
          await stopped;
        },
      );

      const body = serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {}), 1);
      const messageId = randomUUID();
      const sentAt = Date.now();
      // The effect happened: the message is not failed back to the queue.
      expect(await ship.aws({ Records: [sqsRecord(body, { messageId })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
      expect(redis.status, 'the completion met the server down').not.toBe('ready');
      expect(lines.some((l) => l.includes('inbox record could not be completed'))).toBe(true);
      await own.start();
      await eventually(() => redis.status === 'ready', 10_000);
      const backAt = Date.now();

      // SQS delivers the same message again once its claim's lease is over (the lease began in
      // `before`, before `ranAt`). Without the retry, the record expired in progress with its
      // lease, and this delivery would run the effect again.
      await sleepUntil(ranAt + lease.ms + 100);
      const seen = lines.length;
      const redelivered = await ship.aws({ Records: [sqsRecord(body, { messageId, attempt: 2 })] }, lambdaContext());
      lease.holds(
        sentAt,
        () => {
          expect(redelivered).toEqual({ batchItemFailures: [] });
          expect(effects).toHaveLength(1);
          expect(lines.slice(seen).some((l) => l.includes('inbox duplicate'))).toBe(true);
        },
        { windowMs: lease.ms - RETRY_ROOM_MS, endedAt: backAt },
      );
    });
  }, 90_000);
});
