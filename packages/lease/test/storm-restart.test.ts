/**
 * Contenders on the BUILT packages (fixtures/storm-restart-worker.mjs: `redisLeaseStore` on
 * @steadyfn/connections' `redis()`, or `mongoLeaseStore` on its `mongo()`; four processes, two
 * claim loops each, three keys) while the test restarts the store's server under them (SIGKILL,
 * then started again on the same port) and never restarts a contender. Servers are the test's
 * own (test/support/servers.ts), never the shared ones. What built-contend.test.ts (persistent
 * Redis and Cluster, contenders killed) and review-storm.test.ts (servers left running) leave out:
 *
 * - FerretDB (SQLite on disk) restarted twice: no fence is handed out twice for a key, no holder
 *   is handed a key while an earlier holder's lease still ran (unless it was settled first).
 * - A redis-server WITHOUT persistence restarted twice, and the master of the keys' slot of a
 *   3-master Redis Cluster without persistence restarted twice (from its nodes.conf, empty):
 *   every lease is forgotten, so fences start again at 1 (the README's "Fences are only as
 *   durable as the store"); between two restarts no fence is handed out twice for a key.
 *
 * Both: every call ends — a result, a typed retryable `LEASE_STORE_UNAVAILABLE` or the getter's
 * `CONNECTION_UNAVAILABLE`/`CONNECTION_LOST` (or its own signal's TimeoutError) — within its signal's time plus a generous margin for a loaded machine
 * (never hangs on the dead server); no unhandled rejection; every contender claims again after
 * the last restart, on the connection its cached client rebuilt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ferretdbAvailable, startFerretDB, startRedis, startRedisCluster, type OwnCluster, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

const WORKER = fileURLToPath(new URL('./fixtures/storm-restart-worker.mjs', import.meta.url));
const CONTENDERS = 4;
const LEASE_MS = 600;
/** Each call's signal. */
const CALL_MS = 2_000;
/**
 * How far past its signal a call may end: a claim that failed gives its keys back first, trying
 * for up to 2 s (the README's "A claim that throws holds nothing": on the Cluster, claims sent as
 * its master died ended 2.4–2.9 s after they were sent, with LEASE_STORE_UNAVAILABLE), and a
 * loaded machine delays timers and the event loop; a call that waits on the dead server for its
 * reconnect, or for ever, ends far later than this.
 */
const MARGIN_MS = 6_000;

type Entry = { pid: number; ready?: boolean; op?: 'claim' | 'settle'; key?: string; owner?: string; fence?: number; claimed?: boolean; expiresAt?: number; ok?: boolean; sentAt?: number; at: number; ms?: number; error?: string; retryable?: boolean; message?: string; unhandled?: string };

const children: ChildProcess[] = [];
let server: OwnServer | undefined;
let cluster: OwnCluster | undefined;
let dir: string | undefined;
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await server?.dispose();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = cluster = dir = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The storm: contenders started, the server restarted `restarts` times once claims flow; the log and each restart's [stopped, started] times. */
async function contend(backendEnv: Record<string, string>, own: Pick<OwnServer, 'stop' | 'start'>, restarts: number): Promise<{ entries: Entry[]; windows: Array<[number, number]>; pids: number[]; stderr: string }> {
  dir = mkdtempSync(join(tmpdir(), 'steadyfn-lease-storm-restart-'));
  const log = join(dir, 'log.ndjson');
  writeFileSync(log, '');
  const env = { ...process.env, ...backendEnv, STORM_KEYS: 'a,b,c', STORM_LEASE_MS: String(LEASE_MS), STORM_CALL_MS: String(CALL_MS), STORM_LOG: log, STORM_LANES: '2' };
  let stderr = '';
  const pids: number[] = [];
  for (let i = 0; i < CONTENDERS; i++) {
    const child = spawn(process.execPath, ['--no-warnings', WORKER], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr += String(d)));
    children.push(child);
    pids.push(child.pid!);
  }
  const entries = (): Entry[] =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Entry);
  const claimsSince = (at: number, pid?: number) => entries().filter((e) => e.claimed && e.sentAt! > at && (pid === undefined || e.pid === pid)).length;
  await eventually(() => claimsSince(0) >= 4, 40_000, 50);
  const windows: Array<[number, number]> = [];
  for (let r = 0; r < restarts; r++) {
    const stoppedAt = Date.now();
    await own.stop();
    await sleep(300 + Math.random() * 500);
    await own.start();
    windows.push([stoppedAt, Date.now()]);
    // Recovery without restarting anyone: every contender claims again, by a call sent after the restart.
    const after = windows.at(-1)![1];
    await eventually(() => pids.every((pid) => claimsSince(after, pid) >= 1), 30_000, 50);
  }
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  return { entries: entries(), windows, pids, stderr };
}

/** The checks both backends share: calls end in time with a typed answer, nothing unhandled, no crash. */
function expectBoundedTypedCalls(entries: Entry[], stderr: string): void {
  const calls = entries.filter((e) => e.op);
  const errors = new Map<string, number>();
  for (const e of calls.filter((x) => x.error)) errors.set(e.error!, (errors.get(e.error!) ?? 0) + 1);
  console.log(`lease storm-restart: ${calls.filter((c) => c.claimed).length} claims won, ${calls.length} calls, slowest ${Math.max(...calls.map((c) => c.ms!))} ms, errors ${JSON.stringify(Object.fromEntries(errors))}`);
  const late = calls.filter((c) => c.ms! > CALL_MS);
  if (late.length) console.log(`calls that outlived their signal (a failed claim's give-back): ${JSON.stringify(late)}`);
  expect(calls.filter((c) => c.ms! > CALL_MS + MARGIN_MS), 'calls that ended long after their signal').toEqual([]);
  // The store's own LEASE_STORE_UNAVAILABLE, or the getter's typed error passed through (the README: CONNECTION_UNAVAILABLE of @steadyfn/connections), both retryable; or the call's own signal.
  const typed = (c: Entry) => c.error === 'TimeoutError' || (c.retryable === true && ['LEASE_STORE_UNAVAILABLE', 'CONNECTION_UNAVAILABLE', 'CONNECTION_LOST'].includes(c.error!));
  expect(calls.filter((c) => c.error && !typed(c)), 'calls that failed without a typed retryable error').toEqual([]);
  expect(entries.filter((e) => e.unhandled), 'unhandled rejections').toEqual([]);
  expect(stderr, 'contender output on stderr (a crash)').toBe('');
}

/** Claims won, per key, in the order they returned; `from`/`to` bound when they were sent and returned. */
function wonClaims(entries: Entry[], key: string, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Entry[] {
  return entries.filter((e) => e.claimed && e.key === key && e.sentAt! > from && e.at < to).sort((a, b) => a.at - b.at);
}

const twice = (claims: Entry[]): number[] => claims.map((c) => c.fence!).filter((f, i, all) => all.indexOf(f) !== i);

/** The storm on a store that forgets on restart (`own` stops and starts it): the checks of the Redis tests. */
async function forgetful(backendEnv: Record<string, string>, own: Pick<OwnServer, 'stop' | 'start'>): Promise<void> {
  const { entries, windows, stderr } = await contend(backendEnv, own, 2);
  const failures: string[] = [];
  // Epochs: before the first stop, between one start and the next stop, after the last start.
  const bounds: Array<[number, number]> = [[Number.NEGATIVE_INFINITY, windows[0]![0]], [windows[0]![1], windows[1]![0]], [windows[1]![1], Number.POSITIVE_INFINITY]];
  for (const key of ['a', 'b', 'c']) {
    for (const [from, to] of bounds) {
      const claims = wonClaims(entries, key, from, to);
      if (twice(claims).length) failures.push(`${key}: fences handed out twice between restarts ${JSON.stringify(twice(claims))}`);
    }
  }
  // The forgetting the README describes: some key's fences start again at 1 after a restart.
  const restartedAtOne = ['a', 'b', 'c'].some((key) => wonClaims(entries, key, windows[0]![1]).some((c) => c.fence === 1));
  expect(failures).toEqual([]);
  expect(restartedAtOne, 'a fence 1 again after a restart (the README says fences restart without persistence)').toBe(true);
  expectBoundedTypedCalls(entries, stderr);
}

describe('lease contenders on the built packages, the store server restarted under them', () => {
  it.skipIf(!ferretdbAvailable())('FerretDB restarted twice: no fence twice, no overlapping holders, calls bounded and typed, every contender claims again', async () => {
    const own = await startFerretDB();
    server = own;
    const { entries, stderr } = await contend({ STORM_BACKEND: 'mongodb', STORM_MONGODB_URI: own.uri, STORM_COLLECTION: `leases_${randomUUID().slice(0, 8)}` }, own, 2);
    const failures: string[] = [];
    for (const key of ['a', 'b', 'c']) {
      const claims = wonClaims(entries, key);
      if (twice(claims).length) failures.push(`${key}: fences handed out twice ${JSON.stringify(twice(claims))}`);
      for (let i = 1; i < claims.length; i++) {
        const previous = claims[i - 1]!;
        // Released before the next claim returned (a release that failed may have been applied: its reply lost with the server), or its lease (by its own expiresAt) over by then.
        const released = entries.some((e) => e.op === 'settle' && e.owner === previous.owner && (e.ok || e.error) && e.sentAt! <= claims[i]!.at);
        if (!released && previous.expiresAt! > claims[i]!.at) failures.push(`${key}: fence ${claims[i]!.fence} returned at ${claims[i]!.at} while fence ${previous.fence} held until ${previous.expiresAt}`);
      }
    }
    expect(failures).toEqual([]);
    expectBoundedTypedCalls(entries, stderr);
  }, 90_000);

  it('redis-server without persistence restarted twice: fences start again, never twice between restarts; calls bounded and typed, every contender claims again', async () => {
    const own = await startRedis();
    server = own;
    await forgetful({ STORM_BACKEND: 'redis', STORM_REDIS_URL: own.url, STORM_PREFIX: `storm-restart:${randomUUID().slice(0, 8)}:` }, own);
  }, 90_000);

  it("a Redis Cluster without persistence, the keys' master restarted empty twice: the same", async () => {
    const own = await startRedisCluster();
    cluster = own;
    // One hash tag: the three keys on one slot, whose master is the one restarted.
    const prefix = `{storm-restart:${randomUUID().slice(0, 8)}}:`;
    const probe = new Redis(own.ports[0]!, '127.0.0.1', { lazyConnect: true });
    const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', prefix));
    const ranges = (await probe.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    probe.disconnect();
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
    await forgetful({ STORM_BACKEND: 'cluster', STORM_CLUSTER_NODES: own.ports.map((p) => `127.0.0.1:${p}`).join(','), STORM_PREFIX: prefix }, { stop: () => own.kill(master), start: () => own.restart(master) });
  }, 90_000);
});
