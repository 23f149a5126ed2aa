/**
 * The queue-trigger storm of @steadyfn/idempotency's built-storm-queues.test.ts against the
 * inbox, on the BUILT packages: four consumer instances (fixtures/built-inbox-storm-worker.mjs:
 * `inbox()` then `outbox()` on `redisOutbox`, through the Lambda adapter's SQS batch) take
 * outbox envelopes from a queue that delivers every new message to two instances at once and
 * redelivers what is failed or lost (built-queue-storm.ts), while the test SIGKILLs instances
 * mid-invocation and SIGKILLs its own redis-server (`appendonly yes`, `appendfsync always`)
 * once and starts it again on the same port.
 *
 * The README's "exactly once": the effect is an outbox write whose request key is the inbox key,
 * so every event's counter is 1 however often its function ran (a kill between the write and
 * the inbox completion runs it again after the lease; its write writes nothing). Every message
 * is deleted in the end, and redelivered afterwards it is not failed back and still applied
 * once (it may run the function again: the inbox lets a record whose completion failed expire
 * with its lease); every failed invocation carries a documented retryable code (the idempotency and
 * connections ones, the inbox's 409 `INBOX_IN_PROGRESS`, the outbox's 503
 * `OUTBOX_STORE_UNAVAILABLE`), never INTERNAL; no log line has a stack.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { errorKinds, expectTypedOutcomes, readLog, RETRYABLE, sleep, STACK, startFleet, type Fleet } from '../../idempotency/test/built-storm-fleet.js';
import { freshOnEvery, queueStorm, redeliverAll } from '../../idempotency/test/built-queue-storm.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-inbox-storm-worker.mjs', import.meta.url));
const INSTANCES = 4;
const BATCH = 3;
/** The inbox's lease: short, so killed holders' events are taken over within the test. */
const LEASE_MS = 4_000;
const DEADLINE_MS = 10_000;

let server: (OwnServer & { url: string }) | undefined;
let fleet: Fleet | undefined;
let dir: string | undefined;

afterEach(async () => {
  fleet?.stop();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  fleet = server = dir = undefined;
});

/** The events whose effect counter is not 1, with their function runs from `log`. */
async function appliedOnce(url: string, keys: string[], log: string): Promise<string[]> {
  const runs = readLog(log).filter((l) => l.effect);
  const redis = new Redis(url);
  const failures: string[] = [];
  try {
    for (const key of keys) {
      const applied = Number(await redis.get(`inboxfx:${key}`));
      if (applied !== 1) failures.push(`${key}: applied ${applied} times, function runs ${JSON.stringify(runs.filter((r) => r.key === key))}`);
    }
  } finally {
    redis.disconnect();
  }
  return failures;
}

describe('inbox storm on the built packages: duplicates delivered to two instances at once, instances and redis-server SIGKILLed', () => {
  it('SQS batch through the Lambda adapter, effect written through the inbox key: each event applied exactly once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'steadyfn-built-inbox-storm-'));
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const own = server;
    const env = { STORM_REDIS_URL: own.url, STORM_LOG: join(dir, 'log.ndjson'), STORM_LEASE_MS: String(LEASE_MS), STORM_DEADLINE_MS: String(DEADLINE_MS), STORM_PREFIX: `storm:${randomUUID().slice(0, 8)}:` };
    writeFileSync(env.STORM_LOG, '');
    fleet = await startFleet(env, INSTANCES, WORKER);
    const instances = fleet;
    const killed: number[] = [];
    let restarts = 0;
    const outcome = await queueStorm(instances, 12, BATCH, async () => {
      for (let k = 0; k < 4; k++) {
        killed.push(await instances.killMidInvocation());
        if (k === 1) {
          await own.stop();
          await sleep(200 + Math.random() * 600);
          await own.start();
          restarts++;
        }
        await sleep(300 + Math.random() * 400);
      }
    });
    const failures = await appliedOnce(own.url, outcome.keys, env.STORM_LOG);
    const runs = readLog(env.STORM_LOG).filter((l) => l.effect);
    const lines = instances.every.flatMap((i) => i.stderr);
    console.log(
      `inbox storm: ${outcome.keys.length} events (each delivered to two instances at once), ${outcome.deliveries} message deliveries, ${outcome.failedDeliveries} failed and redelivered, ${outcome.lost} batches lost with ${killed.length} killed instances, ${restarts} redis restart, ${runs.length} function runs`,
    );
    console.log(errorKinds(lines));
    expect(restarts).toBe(1);
    expect(failures).toEqual([]);
    expect(outcome.unexpected, 'answers outside the documented ones, or messages stuck on the queue').toEqual([]);
    expect(lines.filter((line) => STACK.test(line)), 'log lines with a stack').toEqual([]);
    expectTypedOutcomes(instances, new Set([...RETRYABLE, 'INBOX_IN_PROGRESS', 'OUTBOX_STORE_UNAVAILABLE']));
    expect(instances.every.flatMap((i) => i.outcomes).filter((o) => o.code === 'INBOX_IN_PROGRESS').length, 'concurrent duplicates were told in progress').toBeGreaterThan(0);
    // Redelivered: never failed back. An event whose inbox completion met the restart may run
    // again once its lease is over (the inbox does not retry its completion: README "Exactly
    // once"); its write then writes nothing, so every event is still applied once.
    // After the lease: a record left held by a failed completion has expired by then.
    await sleep(LEASE_MS);
    expect(await redeliverAll(instances, outcome.keys, BATCH, true), 'redeliveries after the storm that failed').toEqual([]);
    expect(await appliedOnce(own.url, outcome.keys, env.STORM_LOG), 'events applied other than once after the redeliveries').toEqual([]);
    expect(await freshOnEvery(instances), 'instances that did not take a new message').toEqual([]);
  }, 75_000);
});
