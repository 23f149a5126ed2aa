/**
 * Issue 9's end-to-end storm: worker processes hold keys mid-effect and are SIGKILLed, then
 * several other worker processes retry every key with concurrent duplicates. Each key must get
 * exactly one completed effect, and every caller the same body — on FerretDB, Redis and Redis
 * Cluster, each a server of this file's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopeOf, storeKey } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, startRedis, startRedisCluster, type OwnCluster, type OwnServer } from '../../../test/support/servers.js';

const WORKER = fileURLToPath(new URL('./fixtures/storm-worker.mjs', import.meta.url));
const KEYS = 21;
const HOLDERS = 4;
const STORMERS = 4;
/** Concurrent duplicates of every key per storm worker: 4 × 21 × 3 = 252 at once. */
const DUPLICATES = 3;

interface Line {
  running?: string;
  key?: string;
  body?: { key: string; run: string; worker: string };
  error?: string;
  done?: boolean;
}

function startWorker(env: Record<string, string>): { child: ChildProcess; lines: Line[]; exited: Promise<void>; on(listener: (line: Line) => void): void } {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', WORKER], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  const listeners: Array<(line: Line) => void> = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const listener of listeners) listener(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL') lines.push({ error: `worker exited ${code}: ${stderr.slice(0, 1000)}` });
  });
  return { child, lines, exited, on: (listener) => listeners.push(listener) };
}

/**
 * `leaseMs`: the lease must outlast a claim-to-completion under the storm. On this 2-core
 * machine the FerretDB storm (4 worker processes, 252 callers, FerretDB on SQLite) stretches
 * that to seconds; Redis stays in milliseconds when the machine is idle, but a loaded one can
 * deschedule a worker between its claim and its completion (four workers start at once), so
 * Redis gets the same margin: a takeover of a live attempt would be a second effect.
 */
type Setup = { env: Record<string, string>; leaseMs: number; stop(): Promise<void> };

const backends: Array<[string, boolean, () => Promise<Setup>]> = [
  [
    'FerretDB',
    ferretdbAvailable(),
    async () => {
      const server: OwnServer & { uri: string } = await startFerretDB();
      // 8 s was measured too close: claim-to-completion max 7,873 ms on a loaded 2-core machine (load ~28).
      return { env: { STORM_BACKEND: 'mongodb', STORM_MONGODB_URI: server.uri, STORM_DB: 'storm', STORM_COLLECTION: `records_${randomUUID().slice(0, 8)}` }, leaseMs: 15_000, stop: () => server.dispose() };
    },
  ],
  [
    'Redis',
    true,
    async () => {
      const server = await startRedis();
      return { env: { STORM_BACKEND: 'redis', STORM_REDIS_URL: server.url, STORM_PREFIX: 'storm:' }, leaseMs: 8000, stop: () => server.dispose() };
    },
  ],
  [
    'Redis Cluster',
    true,
    async () => {
      const cluster: OwnCluster = await startRedisCluster();
      return { env: { STORM_BACKEND: 'cluster', STORM_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','), STORM_PREFIX: 'storm:' }, leaseMs: 8000, stop: () => cluster.stop() };
    },
  ],
];

describe.each(backends)('kill -9 storm on %s (own server)', (_name, available, setUp) => {
  let setup: Setup | undefined;
  let dir: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    if (!available) return;
    setup = await setUp();
    dir = mkdtempSync(join(tmpdir(), 'steadyfn-storm-'));
  }, 60_000);

  afterAll(async () => {
    for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await setup?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!available)(`4 holders killed mid-effect, 252 concurrent retries: one completed effect per key, one body per key${available ? '' : ' (needs .services/bin/ferretdb-local: run test/services/services.sh start)'}`, async () => {
    const log = join(dir, 'effects.ndjson');
    writeFileSync(log, '');
    const keys = Array.from({ length: KEYS }, () => `order-${randomUUID()}`);
    const common = { ...setup!.env, STORM_LOG: log, STORM_LEASE_MS: String(setup!.leaseMs) };

    // 1. Holders claim every key (split between them) and stop mid-effect.
    const holders = Array.from({ length: HOLDERS }, (_, h) => {
      const mine = keys.filter((_, i) => i % HOLDERS === h);
      const worker = startWorker({ ...common, STORM_WORKER: `holder-${h}`, STORM_MODE: 'hold', STORM_KEYS: mine.join(',') });
      workers.push(worker.child);
      const running = new Promise<void>((resolve, reject) => {
        const seen = new Set<string>();
        const timer = setTimeout(() => reject(new Error(`holder-${h} did not start: ${JSON.stringify(worker.lines.slice(-3))}`)), 30_000);
        worker.on((line) => {
          if (line.running) seen.add(line.running);
          if (line.error) reject(new Error(line.error));
          if (seen.size === mine.length) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      return { worker, running };
    });
    await Promise.all(holders.map((h) => h.running));

    // 2. kill -9 every holder while it holds its keys.
    for (const { worker } of holders) worker.child.kill('SIGKILL');
    await Promise.all(holders.map((h) => h.worker.exited));
    expect(holders.every((h) => h.worker.child.signalCode === 'SIGKILL')).toBe(true);

    // 3. Storm workers retry every key with concurrent duplicates until it answers.
    const stormers = Array.from({ length: STORMERS }, (_, s) => {
      const worker = startWorker({ ...common, STORM_WORKER: `storm-${s}`, STORM_MODE: 'storm', STORM_KEYS: keys.join(','), STORM_DUPLICATES: String(DUPLICATES), STORM_GIVE_UP_MS: '60000' });
      workers.push(worker.child);
      return worker;
    });
    await Promise.all(stormers.map((w) => w.exited));

    const answers = stormers.flatMap((w) => w.lines);
    const errors = answers.filter((l) => l.error);
    expect(errors, 'every duplicate answered').toEqual([]);
    const bodies = answers.filter((l) => l.body);
    expect(bodies).toHaveLength(STORMERS * KEYS * DUPLICATES);
    const effects = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { phase: string; key: string; worker: string; run?: string; fence?: number; at?: number; ok?: boolean });
    // How long the winners held their keys (claim returned → completion returned), for the lease's sake.
    const held = effects.filter((e) => e.phase === 'complete' && e.ok).map((c) => c.at! - effects.find((e) => e.phase === 'claim' && e.key === c.key && e.worker === c.worker && e.at! <= c.at!)!.at!);
    console.log(`${_name}: claim-to-completion max ${Math.max(...held)} ms, lease ${setup!.leaseMs} ms`);
    for (const key of keys) {
      const completed = effects.filter((e) => e.phase === 'effect' && e.key === key);
      const recordKey = storeKey(scopeOf('storm'), { kind: 'delivery', value: key });
      expect(completed, `completed effects of ${key}: ${JSON.stringify(effects.filter((e) => e.key === key || e.key === recordKey))}`).toHaveLength(1);
      expect(completed[0]!.worker).toMatch(/^storm-/);
      // The holder began it before it was killed; the takeover began it once more.
      expect(effects.filter((e) => e.phase === 'begin' && e.key === key)).toHaveLength(2);
      const forKey = bodies.filter((b) => b.key === key).map((b) => b.body);
      expect(new Set(forKey.map((b) => JSON.stringify(b))).size, `distinct bodies of ${key}`).toBe(1);
      expect(forKey[0]).toEqual({ key, run: completed[0]!.run, worker: completed[0]!.worker });
    }
  }, 180_000);
});
