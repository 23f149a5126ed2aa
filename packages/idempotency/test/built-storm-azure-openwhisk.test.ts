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
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { expectCleanAnswers, expectReplays, expectTypedOutcomes, joinedFailures, plainFailures, readLog, sleep, startFleet, storm, type EffectLine, type Fleet } from './built-storm-fleet.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-storm-adapters-worker.mjs', import.meta.url));
const INSTANCES = 4;
const CALLERS = 3;
/** Short, so killed holders' keys are taken over within the test; long enough for a completion retried across the restart. */
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

type Adapter = 'azure-http' | 'openwhisk-web';

/** Starts the fleet and runs the storm with four mid-invocation kills and one redis restart (after the second kill). */
async function run(adapter: Adapter, effect: 'joined' | 'plain') {
  dir = mkdtempSync(join(tmpdir(), 'steadyfn-built-storm-adapters-'));
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  const own = server;
  const env = { STORM_REDIS_URL: own.url, STORM_LOG: join(dir, 'log.ndjson'), STORM_LEASE_MS: String(LEASE_MS), STORM_DEADLINE_MS: String(DEADLINE_MS), STORM_PREFIX: `storm:${randomUUID().slice(0, 8)}:`, STORM_EFFECT: effect, STORM_ADAPTER: adapter };
  writeFileSync(env.STORM_LOG, '');
  fleet = await startFleet(env, INSTANCES, WORKER);
  const instances = fleet;
  const killed: number[] = [];
  let restarts = 0;
  const outcome = await storm(instances, CALLERS, 12, async () => {
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
  expect(restarts).toBe(1);
  return { env, fleet: instances, server: own, outcome, killed };
}

async function joinedStorm(adapter: Adapter): Promise<void> {
  const { env, fleet: instances, server: own, outcome, killed } = await run(adapter, 'joined');
  const settles = readLog(env.STORM_LOG);
  const redis = new Redis(own.url);
  let failures: string[];
  try {
    failures = await joinedFailures(outcome.keys, settles, async (key) => ({ charged: Number(await redis.get(`effects:${key}`)), applied: await redis.lrange(`applied:${key}`, 0, -1) }));
  } finally {
    redis.disconnect();
  }
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
