/**
 * Queue-trigger storms on the BUILT packages: four function instances
 * (fixtures/built-storm-adapters-worker.mjs, the function of fixtures/storm-function.mjs, keyed
 * `'auto'` by the message id) take batches from a queue that delivers every new message to two
 * instances at once and redelivers what is failed or lost (built-queue-storm.ts), while the test
 * SIGKILLs instances mid-invocation and SIGKILLs its own redis-server (`appendonly yes`,
 * `appendfsync always`) once and starts it again on the same port.
 *
 * - SQS through the Lambda adapter: an event source mapping's batch (`Records` with
 *   `messageId`, `body`, `attributes.ApproximateReceiveCount`, …) answered with
 *   `batchItemFailures` (ReportBatchItemFailures; AWS docs "Handling errors for an SQS event
 *   source in Lambda"); joined effect, and the plain effect (at least once, never concurrently).
 * - Service Bus through the Azure adapter: a `cardinality: 'many'` queue trigger (the bodies,
 *   `messageIdArray`, `deliveryCountArray`) built with @azure/functions' `InvocationContext`;
 *   the host settles a batch as one, so a rejection redelivers every message of it.
 *
 * Every message is deleted in the end (none stuck), and a redelivery of each afterwards replays
 * without running the function; every failed invocation carries a documented retryable code
 * (never INTERNAL); no log line has a stack.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OwnServer } from '../../../test/support/servers.js';
import { errorKinds, expectTypedOutcomes, joinedFailuresAt, killsAndRestarts, plainFailures, readLog, STACK, stormRig, type EffectLine, type Fleet } from './built-storm-fleet.js';
import { freshOnEvery, queueStorm, redeliverAll, type QueueStormOutcome } from './built-queue-storm.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-storm-adapters-worker.mjs', import.meta.url));
const INSTANCES = 4;
const BATCH = 3;
/** Short, so killed holders' messages are taken over within the test; long enough for a completion retried across the restart. */
const LEASE_MS = 4_000;
const DEADLINE_MS = 10_000;

const start = stormRig('built-storm-queues', { leaseMs: LEASE_MS, deadlineMs: DEADLINE_MS });

type Adapter = 'lambda-sqs' | 'azure-servicebus';

/** Starts the fleet and runs the queue with four mid-invocation kills and one redis restart (after the second kill). */
async function run(adapter: Adapter, effect: 'joined' | 'plain'): Promise<{ env: Record<string, string>; fleet: Fleet; server: OwnServer & { url: string }; outcome: QueueStormOutcome; killed: number[] }> {
  const { env, fleet, server } = await start(INSTANCES, { STORM_EFFECT: effect, STORM_ADAPTER: adapter }, WORKER);
  const { chaos, killed, restarts } = killsAndRestarts({ fleet, server }, 4, (k) => k === 1);
  const outcome = await queueStorm(fleet, 12, BATCH, chaos);
  expect(restarts()).toBe(1);
  return { env, fleet, server, outcome, killed };
}

/** What every queue storm must show besides the effects. */
async function expectClean(fleet: Fleet, outcome: QueueStormOutcome): Promise<void> {
  const lines = fleet.every.flatMap((i) => i.stderr);
  console.log(errorKinds(lines));
  expect(outcome.unexpected, 'answers outside the documented ones, or messages stuck on the queue').toEqual([]);
  expect(lines.filter((line) => STACK.test(line)), 'log lines with a stack').toEqual([]);
  expectTypedOutcomes(fleet);
  const outcomes = fleet.every.flatMap((i) => i.outcomes);
  expect(outcomes.filter((o) => o.code === 'IDEMPOTENCY_IN_PROGRESS').length, 'concurrent duplicates were told in progress').toBeGreaterThan(0);
  expect(await redeliverAll(fleet, outcome.keys, BATCH), 'redeliveries after the storm that failed or ran again').toEqual([]);
  // Every live instance still runs a new message (no dead cached client after the restart).
  expect(await freshOnEvery(fleet), 'instances that did not take a new message').toEqual([]);
}

function summary(adapter: Adapter, outcome: QueueStormOutcome, killed: number[]): string {
  return `${adapter}: ${outcome.keys.length} messages (each delivered to two instances at once), ${outcome.deliveries} message deliveries, ${outcome.failedDeliveries} failed and redelivered, ${outcome.lost} batches lost with ${killed.length} killed instances`;
}

async function joinedStorm(adapter: Adapter): Promise<void> {
  const { env, fleet, server, outcome, killed } = await run(adapter, 'joined');
  const settles = readLog(env.STORM_LOG!);
  const failures = await joinedFailuresAt(server.url, outcome.keys, settles);
  const takenOver = outcome.keys.filter((key) => settles.some((s) => s.key === key && (s.fence ?? 0) > 1)).length;
  console.log(`joined queue storm, ${summary(adapter, outcome, killed)}, ${takenOver} keys settled by a takeover, ${settles.length} settle attempts`);
  expect(failures).toEqual([]);
  await expectClean(fleet, outcome);
}

describe('queue-trigger storms on the built packages: duplicates delivered to two instances at once, instances and redis-server SIGKILLed', () => {
  it('SQS batch through the Lambda adapter (batchItemFailures), joined effect: each message charged once, by its highest fence', () => joinedStorm('lambda-sqs'), 75_000);

  it('SQS batch through the Lambda adapter, plain effect then completion: each message charged at least once, never twice at a time', async () => {
    const { env, fleet, outcome, killed } = await run('lambda-sqs', 'plain');
    const lines = readLog(env.STORM_LOG!) as EffectLine[];
    const effects = lines.filter((l) => l.effect);
    const failures = plainFailures(outcome.keys, lines, fleet);
    console.log(`plain queue storm, ${summary('lambda-sqs', outcome, killed)}, ${effects.length} effects for ${outcome.keys.length} messages`);
    expect(failures).toEqual([]);
    await expectClean(fleet, outcome);
  }, 75_000);

  it('Service Bus batch through the Azure Functions adapter (cardinality many), joined effect: each message charged once, by its highest fence', () => joinedStorm('azure-servicebus'), 75_000);
});
