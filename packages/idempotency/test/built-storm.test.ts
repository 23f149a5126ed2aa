/**
 * Storms against the BUILT packages, as a user deploys them: six function instances (child
 * processes running fixtures/built-storm-worker.mjs on the dist bundles — @steadyfn/connections'
 * cached ioredis client, the idempotency plugin on it through the README's getter, the Lambda
 * HTTP adapter) answer concurrent duplicate POSTs of a stream of keys, while the test SIGKILLs
 * its own redis-server (`appendonly yes`, `appendfsync always`) and starts it again on the same
 * port. A caller retries what the READMEs call retryable until it gets its 200
 * (built-storm-fleet.ts).
 *
 * 1. The effect joined to the completion (the README's "Completing inside another write"
 *    script), instances also SIGKILLed mid-invocation: every key is charged exactly once, by
 *    the attempt holding its highest fence; no two attempts of a key hold one fence. The same
 *    through the GCF entry behind the Functions Framework's HTTP server (getTestServer: real
 *    HTTP requests), with one restart.
 * 2. The README's first example: an effect outside the store, then the plugin's completion.
 *    The README promises that with `appendfsync always` a restart keeps the claim and the
 *    first attempt completes once its client reconnects: every key's effect happens once.
 *
 * Both: every caller of a key gets the same body; every other answer is a documented
 * retryable one (409 IDEMPOTENCY_IN_PROGRESS, 503 IDEMPOTENCY_STORE_UNAVAILABLE /
 * CONNECTION_UNAVAILABLE / CONNECTION_LOST, 504 DEADLINE_EXCEEDED) without a stack; no log line
 * carries a stack; every instance answers 200 after the restarts (no dead cached client).
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../../../test/support/wait.js';
import { expectCleanAnswers, joinedFailuresAt, killsAndRestarts, readLog, restartServer, sleep, storm, stormRig } from './built-storm-fleet.js';

const INSTANCES = 6;
/** Concurrent callers of every key. */
const CALLERS = 3;
/** Short, so killed holders' keys are taken over within the test; long enough for a loaded attempt, and for a completion retried across a restart. */
const LEASE_MS = 4_000;
const DEADLINE_MS = 10_000;

const start = stormRig('built-storm', { leaseMs: LEASE_MS, deadlineMs: DEADLINE_MS });
const setUp = (effect: 'joined' | 'plain', adapter: 'aws' | 'gcf' = 'aws') => start(INSTANCES, { STORM_EFFECT: effect, STORM_ADAPTER: adapter });

/** The joined storm through `adapter`: instances SIGKILLed mid-invocation, `restartsWanted` redis restarts among six kills. */
async function joinedStorm(adapter: 'aws' | 'gcf', restartsWanted: 1 | 2): Promise<void> {
  const { env, fleet, server } = await setUp('joined', adapter);
  const { chaos, killed, restarts } = killsAndRestarts({ fleet, server }, 6, (k) => (restartsWanted === 2 ? k % 3 === 1 : k === 2));
  const outcome = await storm(fleet, CALLERS, 12, chaos);
  const settles = readLog(env.STORM_LOG!);
  const failures = await joinedFailuresAt(server.url, outcome.keys, settles);
  const takenOver = outcome.keys.filter((key) => settles.some((s) => s.key === key && (s.fence ?? 0) > 1)).length;
  console.log(
    `joined storm (${adapter}): ${outcome.keys.length} keys × ${CALLERS} callers, ${killed.length} instance kills, ${restarts()} redis restarts, ${takenOver} keys settled by a takeover, ${outcome.lost} requests lost with a killed instance, retryable answers ${JSON.stringify(Object.fromEntries(outcome.retried))}, ${settles.length} settle attempts`,
  );
  expect(failures).toEqual([]);
  expect(restarts()).toBe(restartsWanted);
  await expectCleanAnswers(fleet, outcome, CALLERS);
}

describe('storm on the built packages, redis-server with appendfsync always SIGKILLed and restarted', () => {
  it('joined effect, instances SIGKILLed mid-invocation: each key charged once, by its highest fence', () => joinedStorm('aws', 2), 55_000);

  it('the same through the GCF adapter (Functions Framework HTTP server), one restart', () => joinedStorm('gcf', 1), 150_000);

  it('plain effect then completion (the README first example), no instance killed: each key has one effect', async () => {
    const { env, fleet, server } = await setUp('plain');
    let restarts = 0;
    const outcome = await storm(fleet, CALLERS, 12, async () => {
      for (let r = 0; r < 3; r++) {
        // Restart while functions run, between their claims and their completions.
        await eventually(() => fleet.instances.some((i) => i.running > 0), 20_000, 5);
        await restartServer(server);
        restarts++;
        await sleep(700 + Math.random() * 400);
      }
    });
    const effects = readLog(env.STORM_LOG!).filter((l) => l.effect);
    const failures = outcome.keys
      .map((key) => ({ key, mine: effects.filter((e) => e.key === key) }))
      .filter(({ mine }) => mine.length !== 1)
      .map(({ key, mine }) => `${key}: ${mine.length} effects ${JSON.stringify(mine)}`);
    console.log(
      `plain storm: ${outcome.keys.length} keys × ${CALLERS} callers, ${restarts} redis restarts, ${effects.length} effects, retryable answers ${JSON.stringify(Object.fromEntries(outcome.retried))}`,
    );
    expect(restarts).toBe(3);
    expect(failures, 'keys whose effect ran more than once').toEqual([]);
    await expectCleanAnswers(fleet, outcome, CALLERS);
  }, 55_000);
});
