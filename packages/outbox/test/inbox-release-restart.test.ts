/**
 * The inbox's release that meets a store restart is retried while the lease lasts, as its
 * completion is (inbox-completion-restart.test.ts). The function fails with a retryable error
 * and `onError` releases the event record and its seq marker, so SQS's redelivery can run at
 * once; a release lost to a restarting store would leave both held until the lease ends, and
 * every redelivery until then would be refused as in progress (`INBOX_IN_PROGRESS`).
 *
 * The Redis is this file's own (`appendfsync always`: the claims survive a kill); the client
 * fails at once while disconnected (`enableOfflineQueue: false`, as @steadyfn/connections'
 * profile does), so the release in the inbox's `onError` fails while the server is down. The
 * server is killed inside the function (before it throws) and started again once the handler
 * has answered (not after a fixed pause, which a slow answer on a loaded machine outlasted).
 *
 * The lease (20 s) outlasts the test's own timeout (18 s, counted from before the claim): the
 * redelivery is made while the first claim's lease still runs, without a timed assertion.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, RetryableError } from '@steadyfn/handler';
import { scopeOf, storeKey } from '@steadyfn/idempotency';
import { eventually } from '../../../test/support/wait.js';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { restartableRedis, type RestartableRedis } from './restartable-redis.js';
import { lambdaContext, sqsRecord } from './support.js';

const LEASE_MS = 20_000;
/** Below LEASE_MS: the first claim's lease cannot end while the test runs. */
const TEST_TIMEOUT_MS = 18_000;
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };

let redisUnderTest: RestartableRedis | undefined;
afterAll(async () => {
  await redisUnderTest?.close();
});

describe('an inbox release that fails while the store restarts', () => {
  it('is retried until the store is back: the redelivery within the lease runs the function at once, the effect is applied once', async () => {
    redisUnderTest = await restartableRedis('inbox-release');
    const { server: own, client: redis, store } = redisUnderTest;

    const effects: string[] = [];
    const lines: string[] = [];
    let runs = 0;
    const consumer = `shipping-${randomUUID()}`;
    const ship = handler(
      { name: 'ship', logLevel: 'info', logSink: (line) => void lines.push(line), use: [inbox({ store, consumer, leaseMs: LEASE_MS })] },
      async (_input, ctx) => {
        runs += 1;
        if (runs === 1) {
          // The server dies before the function fails, and is back only after the answer.
          await own.stop();
          throw new RetryableError('WAREHOUSE_BUSY', 'the warehouse is busy; retry');
        }
        effects.push(ctx.inbox.event.id);
      },
    );

    const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const body = serializeEvent(event, 1);
    const messageId = randomUUID();
    // The function failed retryably: the message goes back to the queue.
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId })] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(redis.status, 'the release met the server down').not.toBe('ready');
    expect(lines.some((l) => l.includes('inbox record could not be released; retried until its lease ends'))).toBe(true);
    expect(effects).toHaveLength(0);
    await own.start();
    await eventually(() => redis.status === 'ready', 5_000);

    // SQS redelivers soon (a short visibility timeout), long before the lease ends. Without the
    // background release, the claims survived the restart (AOF) and this delivery is refused
    // as in progress: the message would be left in batchItemFailures.
    // It comes once the release, retried in the background, has reached the store: polled (10 s
    // at most, half the lease), where a fixed 1.5 s after the restart was outlasted under load.
    const eventKey = storeKey(scopeOf(`inbox:${consumer}`), { kind: 'custom', value: `event:${event.id}` });
    await eventually(async () => (await store.get(eventKey)) === undefined, 10_000, 50);
    const seen = lines.length;
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId, attempt: 2 })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs, 'the redelivery ran the function').toBe(2);
    expect(lines.slice(seen).some((l) => l.includes('INBOX_IN_PROGRESS'))).toBe(false);
    expect(effects).toEqual([event.id]);

    // A later duplicate delivery of the applied event is answered without running the function.
    const seenAgain = lines.length;
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId, attempt: 3 })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toBe(2);
    expect(effects).toHaveLength(1);
    expect(lines.slice(seenAgain).some((l) => l.includes('inbox duplicate'))).toBe(true);
  }, TEST_TIMEOUT_MS);
});
