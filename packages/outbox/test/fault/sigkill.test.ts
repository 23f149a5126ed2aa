/**
 * A relay process SIGKILLed mid-batch (a real child process), on Redis, Redis Cluster and
 * FerretDB, with real `@steadyfn/lease` stores: SQS accepted part of a batch and nothing of it
 * was marked. Leasing across processes: while the killed relay's leases last, a sweep from
 * this process leaves its aggregates alone (another relay holds them); once they expire (by
 * the store's clock) the sweep takes them over and sends what is pending. The consumer sees
 * every event, duplicates carry the same event id, and the inbox applies each once, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqsSender } from '../../src/sqs.js';
import { eventually } from '../support.js';
import { MetricsRecorder } from '../../src/relay/metrics.js';
import { sweep } from '../../src/relay/sweeper.js';
import { allApplied, appliedSeqs, FAULT_BACKENDS, openFaultServers, type FaultServers } from './backends.js';
import { consume } from './harness.js';

const CHILD = fileURLToPath(new URL('./relay-child.mjs', import.meta.url));
const AGGREGATES = 20;
const PER_AGGREGATE = 5;
const LEASE_MS = 10_000;

describe.each(FAULT_BACKENDS)('a relay process SIGKILLed mid-batch on %s', (backend) => {
  let servers: FaultServers;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    servers = await openFaultServers(backend);
  });
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await servers?.close();
  });

  it('loses nothing: its leases hold off this process until they expire, then the sweep sends the rest; each applied once', { timeout: 300_000 }, async () => {
    const { redis, target, side, sqs, queue } = servers;
    const total = await side.record(AGGREGATES, PER_AGGREGATE);
    child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: { ...process.env, RELAY_ROLE: 'kill-mid-batch', RELAY_BACKEND: backend, RELAY_PREFIX: target.prefix, RELAY_DB: target.db, RELAY_QUEUE_URL: queue.url, RELAY_LEASE_MS: String(LEASE_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const killed = await new Promise<{ midBatch: string[]; aggregates: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay child did not reach mid-batch: ${stderr.slice(0, 2000)}`)), 120_000);
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { midBatch?: string[]; aggregates?: string[] };
        if (msg.midBatch) {
          clearTimeout(timer);
          resolve(msg as { midBatch: string[]; aggregates: string[] });
        }
      });
      child!.on('exit', (code) => reject(new Error(`relay child exited (${code}): ${stderr.slice(0, 2000)}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');

    const run = { leaseMs: 30_000, maxEventsPerAggregate: 10, poison: { maxAttempts: 100, maxUnfinishedAttempts: 100 }, reserveMs: 0, remainingMs: () => 60_000 };
    const deps = (metrics: MetricsRecorder) => ({ store: side.store, lease: side.lease, sender: sqsSender({ client: sqs, queueUrl: queue.url }), metrics });
    const sweepOnce = async () => {
      const metrics = new MetricsRecorder();
      await sweep(deps(metrics), run, { graceMs: 0, maxAggregates: 1000, chunk: 5, retainSentMs: 0, cleanupLimit: 1 });
      return metrics.snapshot();
    };
    // The dead relay's leases are still held (by the store's clock): this process skips those aggregates.
    const first = await sweepOnce();
    expect(first.leased).toBeGreaterThanOrEqual(killed.aggregates.length);
    const heldBack = await side.store.listPending({ limit: 1000, before: Date.now() + 60_000 });
    expect(heldBack.map((r) => r.aggregate).sort()).toEqual(expect.arrayContaining([...killed.aggregates].sort()));
    // After they expire, a sweep takes them over.
    await eventually(async () => (await sweepOnce(), (await side.store.listPending({ limit: 10, before: Date.now() + 60_000 })).length === 0), 60_000, 500);

    const consumed = await consume(sqs, queue.url, redis.client, redis.prefix, () => allApplied(redis, AGGREGATES, PER_AGGREGATE), { fifo: false, limitMs: 240_000 });
    expect(new Set(consumed.idOf.values()).size).toBe(total);
    expect(consumed.conflictingIds).toBe(0);
    // What the killed relay got accepted was sent again by the sweep: delivered twice, same id.
    for (const id of killed.midBatch) expect(consumed.deliveries.get(id)).toBeGreaterThanOrEqual(2);
    for (let a = 0; a < AGGREGATES; a++) expect(await appliedSeqs(redis, a)).toEqual([1, 2, 3, 4, 5]);
  });
});
