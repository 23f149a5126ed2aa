/**
 * The joined-effect storm of built-storm.test.ts through the other two HTTP adapters, on the
 * BUILT packages: four function instances (fixtures/built-storm-adapters-worker.mjs, the
 * function of fixtures/storm-function.mjs) answer concurrent duplicate POSTs of a stream of
 * keys while the test SIGKILLs instances mid-invocation and SIGKILLs its own redis-server
 * (`appendonly yes`, `appendfsync always`) once and starts it again on the same port.
 *
 * - Azure Functions: `@steadyfn/handler/azure` called with @azure/functions' own `HttpRequest`
 *   and `InvocationContext` (the library's test-mode constructors) for an `app.http` trigger.
 * - OpenWhisk: `@steadyfn/handler/openwhisk` called as the Node.js runtime calls a concurrent
 *   web action (docs/webactions.md: `__ow_method`, `__ow_headers`, `__ow_path`, raw
 *   `__ow_query` / `__ow_body` or the JSON body merged into params; `__OW_ACTIVATION_ID` and
 *   `__OW_DEADLINE` in epoch ms set per activation), its result `{ statusCode, headers, body }`
 *   (5xx under `error`).
 *
 * Joined effect: every key is charged exactly once, by the attempt holding its highest fence.
 * Plain effect (the README's first example, OpenWhisk): every key charged at least once, and
 * never twice at a time (each effect starts after the earlier ones ended or their instance
 * died). Both: every caller of
 * a key gets the same 200 body; every other answer and every failed invocation is a documented
 * retryable one (never INTERNAL) without a stack; every key replays afterwards (none stuck) and
 * every instance answers a new key.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectCleanAnswers, expectReplays, expectTypedOutcomes, joinedFailuresAt, killsAndRestarts, plainFailures, readLog, stormRig, storm, type EffectLine } from './built-storm-fleet.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-storm-adapters-worker.mjs', import.meta.url));
const INSTANCES = 4;
const CALLERS = 3;
/** Short, so killed holders' keys are taken over within the test; long enough for a completion retried across the restart. */
const LEASE_MS = 4_000;
const DEADLINE_MS = 10_000;

const start = stormRig('built-storm-adapters', { leaseMs: LEASE_MS, deadlineMs: DEADLINE_MS });

type Adapter = 'azure-http' | 'openwhisk-web';

/** Starts the fleet and runs the storm with four mid-invocation kills and one redis restart (after the second kill). */
async function run(adapter: Adapter, effect: 'joined' | 'plain') {
  const { env, fleet, server } = await start(INSTANCES, { STORM_EFFECT: effect, STORM_ADAPTER: adapter }, WORKER);
  const { chaos, killed, restarts } = killsAndRestarts({ fleet, server }, 4, (k) => k === 1);
  const outcome = await storm(fleet, CALLERS, 12, chaos);
  expect(restarts()).toBe(1);
  return { env, fleet, server, outcome, killed };
}

async function joinedStorm(adapter: Adapter): Promise<void> {
  const { env, fleet: instances, server: own, outcome, killed } = await run(adapter, 'joined');
  const settles = readLog(env.STORM_LOG);
  const failures = await joinedFailuresAt(own.url, outcome.keys, settles);
  const takenOver = outcome.keys.filter((key) => settles.some((s) => s.key === key && (s.fence ?? 0) > 1)).length;
  console.log(
    `joined storm (${adapter}): ${outcome.keys.length} keys × ${CALLERS} callers, ${killed.length} instance kills, 1 redis restart, ${takenOver} keys settled by a takeover, ${outcome.lost} requests lost with a killed instance, retryable answers ${JSON.stringify(Object.fromEntries(outcome.retried))}, ${settles.length} settle attempts`,
  );
  expect(failures).toEqual([]);
  await expectCleanAnswers(instances, outcome, CALLERS);
  expectTypedOutcomes(instances);
  await expectReplays(instances, outcome);
}

describe('storm on the built packages through the Azure Functions and OpenWhisk HTTP adapters, instances and redis-server SIGKILLed', () => {
  it('Azure Functions HTTP trigger (@azure/functions HttpRequest, InvocationContext): each key charged once, by its highest fence', () => joinedStorm('azure-http'), 60_000);

  it('OpenWhisk web action, raw and not, concurrent activations: each key charged once, by its highest fence', () => joinedStorm('openwhisk-web'), 60_000);

  it('OpenWhisk web action, plain effect then completion: each key charged at least once, never twice at a time', async () => {
    const { env, fleet: instances, outcome, killed } = await run('openwhisk-web', 'plain');
    const lines = readLog(env.STORM_LOG) as EffectLine[];
    const failures = plainFailures(outcome.keys, lines, instances);
    console.log(`plain storm (openwhisk-web): ${outcome.keys.length} keys × ${CALLERS} callers, ${killed.length} instance kills, 1 redis restart, ${lines.filter((l) => l.effect).length} effects, retryable answers ${JSON.stringify(Object.fromEntries(outcome.retried))}`);
    expect(failures).toEqual([]);
    await expectCleanAnswers(instances, outcome, CALLERS);
    expectTypedOutcomes(instances);
    await expectReplays(instances, outcome);
  }, 60_000);
});
