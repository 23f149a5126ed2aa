/**
 * The README's first example (an effect outside the store, then the plugin's completion) on the
 * BUILT packages — four function instances (fixtures/built-storm-worker.mjs, STORM_EFFECT=plain,
 * through the Lambda HTTP adapter) answering concurrent duplicate POSTs (built-storm-fleet.ts) —
 * while the test restarts a store server of its own that keeps NOTHING (no AOF, no RDB): a
 * redis-server stopped (SIGKILL) and started on its port twice, and a master of a 3-master Redis
 * Cluster restarted from its nodes.conf with its data gone. The instances are never restarted.
 * The persistent restarts are built-storm.test.ts and built-storm-cluster.test.ts; this is what
 * the README promises when the records are lost ("Records are only as durable as the server keeps
 * them"):
 *
 * - a key runs its effect twice only across a restart (the second claim came after the records
 *   were lost); while the server kept its data, one effect a key;
 * - every request is answered (a 200, or a documented retryable 409/503/504 without a stack)
 *   within its deadline plus a margin for a loaded machine, never left hanging on the dead server;
 * - no instance dies (an unhandled rejection ends a Node process), and each answers 200 after
 *   the restarts on the connection its cached client rebuilt; every caller of a key gets one body.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, startRedisCluster, type OwnCluster, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';
import { expectCleanAnswers, readLog, sleep, startFleet, storm, type EffectLine, type Fleet } from './built-storm-fleet.js';

const INSTANCES = 4;
const CALLERS = 3;
const LEASE_MS = 4_000;
const DEADLINE_MS = 8_000;
/** How far past its deadline an answer may come on a loaded machine (timers, two event loops, the pipe); a request waiting on the dead server comes far later. */
const MARGIN_MS = 6_000;
/**
 * How long before its function began (`began`, logged by the worker as the function starts) a
 * claim may have returned: the next turns of the event loop, more on a loaded machine. A restart
 * in that gap came after the claim.
 */
const CLAIM_TO_BEGIN_MS = 500;

let fleet: Fleet | undefined;
let server: OwnServer | undefined;
let cluster: OwnCluster | undefined;
let dir: string | undefined;
afterEach(async () => {
  fleet?.stop();
  await server?.dispose();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  fleet = server = cluster = dir = undefined;
});

/**
 * The storm with `restart` run twice while functions run; the verdicts above. `stops` are the
 * times the server lost its records: a key's second effect is allowed only with a stop between
 * the first's function start (its claim had just returned) and the second's.
 */
async function volatileStorm(backendEnv: Record<string, string>, restart: () => Promise<void>): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'steadyfn-storm-volatile-'));
  const log = join(dir, 'log.ndjson');
  writeFileSync(log, '');
  const env = { ...backendEnv, STORM_LOG: log, STORM_LEASE_MS: String(LEASE_MS), STORM_DEADLINE_MS: String(DEADLINE_MS), STORM_PREFIX: `storm-volatile:${randomUUID().slice(0, 8)}:`, STORM_EFFECT: 'plain' };
  const own = (fleet = await startFleet(env, INSTANCES));
  const stops: number[] = [];
  const outcome = await storm(own, CALLERS, 10, async () => {
    for (let r = 0; r < 2; r++) {
      await eventually(() => own.instances.some((i) => i.running > 0), 20_000, 5);
      stops.push(Date.now());
      await restart();
      await sleep(600 + Math.random() * 400);
    }
  });
  const effects = (readLog(log) as Array<EffectLine & { began: number }>).filter((l) => l.effect);
  const failures: string[] = [];
  for (const key of outcome.keys) {
    const mine = effects.filter((e) => e.key === key).sort((a, b) => a.began - b.began);
    if (mine.length === 0) failures.push(`${key}: no effect`);
    for (let i = 1; i < mine.length; i++) {
      const [first, second] = [mine[i - 1]!, mine[i]!];
      if (!stops.some((stop) => stop > first.began - CLAIM_TO_BEGIN_MS && stop < second.began)) failures.push(`${key}: a second effect with no restart between: ${JSON.stringify(mine)}`);
    }
  }
  const twice = outcome.keys.filter((key) => effects.filter((e) => e.key === key).length > 1).length;
  console.log(
    `volatile storm: ${outcome.keys.length} keys × ${CALLERS} callers, ${stops.length} restarts, ${effects.length} effects (${twice} keys twice, across a restart), slowest answer ${outcome.slowest} ms, retryable answers ${JSON.stringify(Object.fromEntries(outcome.retried))}`,
  );
  expect(stops).toHaveLength(2);
  expect(failures, 'keys whose effect ran twice while the server kept its data').toEqual([]);
  expect(outcome.slowest, 'the longest wait for an answer (ms)').toBeLessThanOrEqual(DEADLINE_MS + MARGIN_MS);
  expect(own.every.filter((i) => i.dead).map((i) => i.stderr.slice(-5)), 'instances that died').toEqual([]);
  await expectCleanAnswers(own, outcome, CALLERS);
}

describe('storm on the built packages, the store server restarted with its records lost', () => {
  it('a redis-server without persistence, stopped and started twice', async () => {
    const own = await startRedis();
    server = own;
    await volatileStorm({ STORM_REDIS_URL: own.url }, async () => {
      await own.stop();
      await sleep(200 + Math.random() * 400);
      await own.start();
    });
  }, 60_000);

  it('a Redis Cluster without persistence, two of its masters restarted empty', async () => {
    const own = await startRedisCluster();
    cluster = own;
    let next = 0;
    await volatileStorm({ STORM_BACKEND: 'cluster', STORM_CLUSTER_NODES: own.ports.map((p) => `127.0.0.1:${p}`).join(',') }, () => own.restart(own.ports[next++ % own.ports.length]!));
  }, 90_000);
});
