/**
 * A batch's completion that meets a store restart is retried while the leases last, as one
 * message's is (found by built-storm-queues.test.ts: an SQS message acknowledged with its record
 * left in progress, so its redelivery ran the effect a second time). The Redis is this file's
 * own (`appendfsync always`: the claims survive); the client fails at once while disconnected
 * (`enableOfflineQueue: false`, as @steadyfn/connections' profile does), so the completion in
 * `afterBatch` fails while the server is down. It is killed inside the function and started
 * again after the batch answered.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, redisStore } from '../src/index.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';
import { lambdaContext, silentSink, sqsRecord } from './support.js';

let server: (OwnServer & { url: string }) | undefined;
const clients: Redis[] = [];
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.dispose();
});


describe('a batch completion that fails while the store restarts', () => {
  it.each([1, 2])('is retried until the store is back (%i messages): the records complete, a redelivery replays', async (size) => {
    server ??= await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const own = server;
    const client = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    clients.push(client);
    await eventually(() => client.status === 'ready', 5_000);
    const prefix = `batch-restart:${randomUUID().slice(0, 8)}:`;
    const store = redisStore({ client, prefix });
    const effects: string[] = [];
    let stopped: Promise<void> | undefined;
    const main = handler({ name: 'batch-restart', logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 20_000, localCache: false })] }, async (input) => {
      const { orderId } = input as { orderId: string };
      effects.push(orderId);
      // The server dies before the batch completes, and is back only after the batch answered
      // (started by the test once it has the answer: a fixed pause here was outlasted by a slow
      // answer on a loaded machine, and the completion then met the server up).
      stopped ??= own.stop();
      await stopped;
      return { charged: orderId };
    });
    const ids = Array.from({ length: size }, () => `m-${randomUUID()}`);
    const event = { Records: ids.map((id) => sqsRecord(id, { orderId: id })) };
    // The effects happened: no message is failed back to the queue.
    expect(await main(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(client.status, 'the completion met the server down').not.toBe('ready');
    await own.start();
    // Delivered again once the server is back: in progress until the first completion lands
    // (retried in the background), then replayed. Without the retry the records stay in progress
    // for their 20 s lease, and the redelivery after it would run the function again.
    let again: unknown;
    await eventually(async () => {
      again = await main(event, lambdaContext());
      return (again as { batchItemFailures: unknown[] }).batchItemFailures.length === 0;
    }, 5_000, 100).catch(() => undefined);
    expect(again).toEqual({ batchItemFailures: [] });
    expect(effects.sort()).toEqual([...ids].sort());
  }, 20_000);
});
