/**
 * The relay process SIGKILLed mid-batch (a real child process): SQS accepted part of a batch
 * and nothing of it was marked. A later sweep sends what is pending; the consumer sees every
 * event, duplicates carry the same event id, and the inbox applies each once, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsSender } from '../../src/sqs/index.js';
import { createQueue, memoryLease, openRedis, sqsClient, type RedisBackend } from '../support.js';
import { redisRelayStore } from '../../src/stores/redis.js';
import { MetricsRecorder } from '../../src/relay/metrics.js';
import { sweep } from '../../src/relay/sweeper.js';
import { consume, recordEvents } from './harness.js';

const CHILD = fileURLToPath(new URL('./relay-child.mjs', import.meta.url));

describe('a relay process SIGKILLed mid-batch', () => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    redis = await openRedis('redis');
    sqs = await sqsClient();
    queue = await createQueue(sqs);
  });
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await queue?.remove();
    await redis?.close();
  });

  it('loses nothing: the next sweep sends the rest, duplicates keep their ids, each is applied once', { timeout: 300_000 }, async () => {
    const total = await recordEvents(redis.client, redis.prefix, 20, 5);
    child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: { ...process.env, OUTBOX_PREFIX: redis.prefix, OUTBOX_QUEUE_URL: queue.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const midBatch = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay child did not reach mid-batch: ${stderr.slice(0, 2000)}`)), 120_000);
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { midBatch?: string[] };
        if (msg.midBatch) {
          clearTimeout(timer);
          resolve(msg.midBatch);
        }
      });
      child!.on('exit', (code) => reject(new Error(`relay child exited (${code}): ${stderr.slice(0, 2000)}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');

    const store = redisRelayStore({ client: redis.client, prefix: redis.prefix });
    const stillPending = await store.listPending({ limit: 1000, before: Date.now() + 60_000 });
    expect(stillPending.length).toBeGreaterThan(0);
    const metrics = new MetricsRecorder();
    const run = { leaseMs: 30_000, maxEventsPerAggregate: 10, poison: { maxAttempts: 100, maxUnfinishedAttempts: 100 }, reserveMs: 0, remainingMs: () => 60_000 };
    await sweep({ store, lease: memoryLease(), sender: sqsSender({ client: sqs, queueUrl: queue.url }), metrics }, run, { graceMs: 0, maxAggregates: 1000, chunk: 5, retainSentMs: 0, cleanupLimit: 1 });
    expect(await store.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);

    const consumed = await consume(sqs, queue.url, redis.client, redis.prefix, async () => {
      for (let a = 0; a < 20; a++) if ((await redis.client.llen(`${redis.prefix}applied:{agg-${a}}`)) < 5) return false;
      return true;
    }, { fifo: false, limitMs: 240_000 });
    expect(new Set(consumed.idOf.values()).size).toBe(total);
    expect(consumed.conflictingIds).toBe(0);
    // What the killed relay got accepted was sent again by the sweep: delivered twice, same id.
    for (const id of midBatch) expect(consumed.deliveries.get(id)).toBeGreaterThanOrEqual(2);
    for (let a = 0; a < 20; a++) expect((await redis.client.lrange(`${redis.prefix}applied:{agg-${a}}`, 0, -1)).map(Number)).toEqual([1, 2, 3, 4, 5]);
  });
});
