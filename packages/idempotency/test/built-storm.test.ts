/**
 * A storm against the BUILT packages, as a user deploys them: six function instances (child
 * processes running fixtures/built-storm-worker.mjs on the dist bundles — @steadyfn/connections'
 * cached ioredis client, the idempotency plugin on it, the README's joined "charge once" effect,
 * the Lambda HTTP adapter) answer concurrent duplicate POSTs of a stream of keys, while the test
 * SIGKILLs instances in the middle of an invocation (and starts replacements) and SIGKILLs its
 * own redis-server (`appendonly yes`, `appendfsync always`) and starts it again on the same
 * port. A caller retries what the README calls retryable until it gets its 200.
 *
 * What must hold: every key is charged exactly once (its effect counter is 1, written by the
 * attempt whose fence settled the record, the highest fence any attempt of the key held); no
 * two attempts of a key hold the same fence; every caller of a key gets the same body; every
 * other answer is a documented retryable one (409 IDEMPOTENCY_IN_PROGRESS, 503
 * IDEMPOTENCY_STORE_UNAVAILABLE / CONNECTION_UNAVAILABLE / CONNECTION_LOST, 504
 * DEADLINE_EXCEEDED) with a problem+json body and no stack; no log line carries a stack; the
 * instances that lived through a restart answer 200 again afterwards (no dead cached client).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-storm-worker.mjs', import.meta.url));
const INSTANCES = 6;
/** Concurrent callers of every key. */
const CALLERS = 3;
const KILLS = 6;
const RESTARTS = 2;
/** Short, so killed holders' keys are taken over within the test; long enough for a loaded attempt. */
const LEASE_MS = 2_500;
const DEADLINE_MS = 10_000;
const RETRYABLE = new Set(['IDEMPOTENCY_IN_PROGRESS', 'IDEMPOTENCY_STORE_UNAVAILABLE', 'CONNECTION_UNAVAILABLE', 'CONNECTION_LOST', 'DEADLINE_EXCEEDED']);
const STACK = /\n\s+at |at [\w.<>]+ \(.*:\d+:\d+\)|node:internal|\.m?js:\d+:\d+/;

type Answer = { id: string; statusCode?: number; body?: string; headers?: Record<string, string>; thrown?: string };

interface Instance {
  child: ChildProcess;
  pid: number;
  /** Requests sent and not answered yet. */
  pending: Map<string, (answer: Answer | undefined) => void>;
  /** Keys whose function started and did not answer yet (begin seen). */
  running: number;
  stderr: string[];
  dead: boolean;
}

let server: OwnServer & { url: string };
let dir: string;
const instances: Instance[] = [];
const everyInstance: Instance[] = [];

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--no-warnings', WORKER], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const instance: Instance = { child, pid: child.pid!, pending: new Map(), running: 0, stderr: [], dead: false };
  everyInstance.push(instance);
  createInterface({ input: child.stderr! }).on('line', (line) => instance.stderr.push(line));
  // A request written to an instance just killed: its caller learns it as lost (exit handler).
  child.stdin!.on('error', () => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`instance exited before ready (${code ?? signal}): ${instance.stderr.join('\n').slice(0, 2000)}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const message = JSON.parse(text) as Answer & { ready?: boolean; begin?: string };
      if (message.ready) return resolve();
      if (message.begin) return void instance.running++;
      const settle = instance.pending.get(message.id);
      instance.pending.delete(message.id);
      if (message.statusCode !== undefined || message.thrown) instance.running = Math.max(0, instance.running - 1);
      settle?.(message);
    });
  });
  child.once('exit', () => {
    instance.dead = true;
    // A killed instance answers nothing: its callers learn it as a lost request.
    for (const settle of instance.pending.values()) settle(undefined);
    instance.pending.clear();
  });
  await ready;
  return instance;
}

function ask(instance: Instance, key: string): Promise<Answer | undefined> {
  if (instance.dead) return Promise.resolve(undefined);
  const id = randomUUID();
  return new Promise((resolve) => {
    instance.pending.set(id, resolve);
    instance.child.stdin!.write(`${JSON.stringify({ id, key })}\n`);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('storm on the built packages: instances SIGKILLed mid-invocation, redis-server (AOF always) SIGKILLed and restarted', () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'steadyfn-built-storm-'));
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    env = { STORM_REDIS_URL: server.url, STORM_LOG: join(dir, 'settles.ndjson'), STORM_LEASE_MS: String(LEASE_MS), STORM_DEADLINE_MS: String(DEADLINE_MS), STORM_PREFIX: `storm:${randomUUID().slice(0, 8)}:` };
    writeFileSync(env.STORM_LOG!, '');
    for (let i = 0; i < INSTANCES; i++) instances.push(await startInstance(env));
  }, 60_000);

  afterAll(async () => {
    for (const instance of everyInstance) if (!instance.dead) instance.child.kill('SIGKILL');
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each key charged once, one body per key, only documented retryable answers meanwhile, no stack anywhere', async () => {
    const keys: string[] = [];
    const answers = new Map<string, string[]>();
    const retried = new Map<string, number>();
    const unexpected: unknown[] = [];
    let lost = 0;

    /** One caller of `key`: retries until a 200, as a client of the documented answers would. */
    const caller = async (key: string): Promise<void> => {
      for (let attempt = 0; attempt < 400; attempt++) {
        const live = instances.filter((i) => !i.dead);
        const answer = live.length ? await ask(live[Math.floor(Math.random() * live.length)]!, key) : undefined;
        if (!answer) {
          lost++;
          await sleep(100);
          continue;
        }
        if (answer.statusCode === 200) {
          answers.set(key, [...(answers.get(key) ?? []), answer.body!]);
          return;
        }
        let code: string | undefined;
        try {
          code = (JSON.parse(answer.body ?? '') as { code?: string }).code;
        } catch {
          code = undefined;
        }
        if (answer.thrown || !code || !RETRYABLE.has(code) || ![409, 503, 504].includes(answer.statusCode!) || STACK.test(answer.body ?? '')) {
          unexpected.push({ key, answer });
          return;
        }
        retried.set(code, (retried.get(code) ?? 0) + 1);
        await sleep(100 + Math.random() * 200);
      }
      unexpected.push({ key, gaveUp: true });
    };

    // Keys keep arriving (CALLERS concurrent duplicates each) while the chaos below runs.
    const callers: Promise<void>[] = [];
    let chaosDone = false;
    const arrivals = (async () => {
      while (!chaosDone || keys.length < 12) {
        const key = `order-${randomUUID()}`;
        keys.push(key);
        for (let c = 0; c < CALLERS; c++) callers.push(caller(key));
        await sleep(150);
      }
    })();

    // Chaos: SIGKILL an instance while one of its functions runs, start a replacement; restart
    // the redis-server after some of the kills.
    let kills = 0;
    let restarts = 0;
    for (let k = 0; k < KILLS; k++) {
      let victim: Instance | undefined;
      await eventually(() => (victim = instances.find((i) => !i.dead && i.running > 0)) !== undefined, 20_000, 10);
      victim!.child.kill('SIGKILL');
      kills++;
      instances.splice(instances.indexOf(victim!), 1, await startInstance(env));
      if (k % (KILLS / RESTARTS) === 1) {
        await server.stop();
        await sleep(200 + Math.random() * 600);
        await server.start();
        restarts++;
      }
      await sleep(300 + Math.random() * 400);
    }
    chaosDone = true;
    await arrivals;
    await Promise.all(callers);

    // The instances that lived through the last restart answer a fresh key with a plain 200.
    const after: Array<number | undefined> = [];
    for (const instance of instances) after.push((await ask(instance, `after-${randomUUID()}`))?.statusCode);

    const redis = new Redis(server.url);
    try {
      const settles = readFileSync(env.STORM_LOG!, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { key: string; pid: number; fence: number | null });
      const failures: string[] = [];
      for (const key of keys) {
        const charged = Number(await redis.get(`effects:${key}`));
        const applied = await redis.lrange(`applied:${key}`, 0, -1);
        const fences = settles.filter((s) => s.key === key).map((s) => s.fence);
        const bodies = new Set(answers.get(key));
        if (charged !== 1 || applied.length !== 1) failures.push(`${key}: charged ${charged} times, applied ${JSON.stringify(applied)}, settle attempts ${JSON.stringify(settles.filter((s) => s.key === key))}`);
        if (fences.includes(null)) failures.push(`${key}: an attempt had no joinable completion`);
        if (new Set(fences).size !== fences.length) failures.push(`${key}: two attempts held one fence: ${JSON.stringify(settles.filter((s) => s.key === key))}`);
        if (applied.length === 1 && Number(applied[0]!.split(':')[1]) !== Math.max(...(fences as number[]))) failures.push(`${key}: applied by ${applied[0]}, not the highest fence ${Math.max(...(fences as number[]))}`);
        if (bodies.size !== 1 || answers.get(key)!.length !== CALLERS) failures.push(`${key}: bodies ${JSON.stringify([...bodies])}, ${answers.get(key)?.length ?? 0} answers`);
      }
      const stackLines = everyInstance.flatMap((i) => i.stderr).filter((line) => STACK.test(line));
      const errorLines = everyInstance.flatMap((i) => i.stderr).filter((line) => /"level":"error"/.test(line));
      const takenOver = keys.filter((key) => settles.some((s) => s.key === key && (s.fence ?? 0) > 1)).length;
      const errorKinds = new Map<string, number>();
      for (const line of errorLines) {
        const kind = line.replace(/"(requestId|awsRequestId|traceId|time|ts|durationMs|idleMs|spanId)":("[^"]*"|\d+),?/g, '');
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
      }
      console.log([...errorKinds].map(([k, n]) => `${n}× ${k}`).join('\n'));
      console.log(
        `built storm: ${takenOver} keys taken over after a kill, : ${keys.length} keys × ${CALLERS} callers, ${kills} instance kills, ${restarts} redis restarts, ${lost} requests lost with a killed instance, retryable answers ${JSON.stringify(Object.fromEntries(retried))}, ${settles.length} settle attempts, error log lines ${errorLines.length}`,
      );
      expect(unexpected, 'answers outside the documented retryable ones').toEqual([]);
      expect(failures).toEqual([]);
      expect(stackLines, 'log lines with a stack').toEqual([]);
      expect(after, 'every live instance answers after the restarts').toEqual(instances.map(() => 200));
      expect(kills).toBe(KILLS);
      expect(restarts).toBe(RESTARTS);
      expect(retried.get('IDEMPOTENCY_IN_PROGRESS') ?? 0, 'duplicates were told in progress').toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  }, 120_000);
});
