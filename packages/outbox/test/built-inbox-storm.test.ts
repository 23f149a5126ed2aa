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
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { errorKinds, expectTypedOutcomes, readLog, RETRYABLE, sleep, STACK, killsAndRestarts, stormRig } from '../../idempotency/test/built-storm-fleet.js';
import { freshOnEvery, queueStorm, redeliverAll } from '../../idempotency/test/built-queue-storm.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-inbox-storm-worker.mjs', import.meta.url));
const INSTANCES = 4;
const BATCH = 3;
/** The inbox's lease: short, so killed holders' events are taken over within the test. */
const LEASE_MS = 4_000;
const DEADLINE_MS = 10_000;

const start = stormRig('built-inbox-storm', { leaseMs: LEASE_MS, deadlineMs: DEADLINE_MS });

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
    const { env, fleet: instances, server: own } = await start(INSTANCES, {}, WORKER);
    const { chaos, killed, restarts } = killsAndRestarts({ fleet: instances, server: own }, 4, (k) => k === 1);
    const outcome = await queueStorm(instances, 12, BATCH, chaos);
    const failures = await appliedOnce(own.url, outcome.keys, env.STORM_LOG);
    const runs = readLog(env.STORM_LOG).filter((l) => l.effect);
    const lines = instances.every.flatMap((i) => i.stderr);
    console.log(
      `inbox storm: ${outcome.keys.length} events (each delivered to two instances at once), ${outcome.deliveries} message deliveries, ${outcome.failedDeliveries} failed and redelivered, ${outcome.lost} batches lost with ${killed.length} killed instances, ${restarts()} redis restart, ${runs.length} function runs`,
    );
    console.log(errorKinds(lines));
    expect(restarts()).toBe(1);
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
