/**
 * The fleet of the built-package storms (built-storm*.test.ts): function instances as child
 * processes running fixtures/built-storm-worker.mjs (or another worker of the same protocol,
 * e.g. fixtures/built-storm-adapters-worker.mjs) on the dist bundles, and callers that send
 * concurrent duplicate POSTs of a stream of keys and retry what the idempotency and connections
 * READMEs call retryable until they get a 200, while the test's chaos runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

const WORKER = fileURLToPath(new URL('./fixtures/built-storm-worker.mjs', import.meta.url));
/** Every answer but a 200 that a caller may retry: the documented retryable codes. */
export const RETRYABLE = new Set(['IDEMPOTENCY_IN_PROGRESS', 'IDEMPOTENCY_STORE_UNAVAILABLE', 'CONNECTION_UNAVAILABLE', 'CONNECTION_LOST', 'DEADLINE_EXCEEDED']);
/** A stack trace, or a source position, in a response or a log line. */
export const STACK = /\n\s+at |at [\w.<>]+ \(.*:\d+:\d+\)|node:internal|\.m?js:\d+:\d+/;

export type Answer = { id: string; statusCode?: number; body?: string; headers?: Record<string, string>; thrown?: string };

/** One invocation's end as a worker that reports outcomes says it (fixtures/storm-function.mjs): each message of a batch its own. */
export type InvocationOutcome = { key: string; began: boolean; ok: boolean; code?: string; status?: number };

export interface Instance {
  child: ChildProcess;
  pid: number;
  /** Requests sent and not answered yet. */
  pending: Map<string, (answer: Answer | undefined) => void>;
  /** Functions started (begin seen) and not answered yet. */
  running: number;
  stderr: string[];
  dead: boolean;
  /** When the process exited (epoch ms), once it has. */
  exitedAt?: number;
  /** The invocation outcomes it reported (workers that report them). */
  outcomes: InvocationOutcome[];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startInstance(env: Record<string, string>, every: Instance[], worker: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--no-warnings', worker], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const instance: Instance = { child, pid: child.pid!, pending: new Map(), running: 0, stderr: [], dead: false, outcomes: [] };
  every.push(instance);
  createInterface({ input: child.stderr! }).on('line', (line) => instance.stderr.push(line));
  // A request written to an instance just killed: its caller learns it as lost (exit handler).
  child.stdin!.on('error', () => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`instance exited before ready (${code ?? signal}): ${instance.stderr.join('\n').slice(0, 2000)}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const message = JSON.parse(text) as Answer & { ready?: boolean; begin?: string; outcome?: InvocationOutcome };
      if (message.ready) return resolve();
      if (message.begin) return void instance.running++;
      // A worker reporting outcomes says which invocations ran the function (a batch runs several).
      if (message.outcome) {
        instance.outcomes.push(message.outcome);
        if (message.outcome.began) instance.running = Math.max(0, instance.running - 1);
        return;
      }
      const settle = instance.pending.get(message.id);
      instance.pending.delete(message.id);
      if (instance.outcomes.length === 0 && (message.statusCode !== undefined || message.thrown)) instance.running = Math.max(0, instance.running - 1);
      settle?.(message);
    });
  });
  child.once('exit', () => {
    instance.dead = true;
    instance.exitedAt = Date.now();
    // A killed instance answers nothing: its callers learn it as a lost request.
    for (const settle of instance.pending.values()) settle(undefined);
    instance.pending.clear();
  });
  await ready;
  return instance;
}

export function ask(instance: Instance, key: string): Promise<Answer | undefined> {
  return send(instance, { key });
}

/** Sends one request line (`message` plus a fresh `id`); resolves to its answer, or undefined when the instance dies first. */
export function send<A extends { id: string } = Answer>(instance: Instance, message: Record<string, unknown>): Promise<A | undefined> {
  if (instance.dead) return Promise.resolve(undefined);
  const id = randomUUID();
  return new Promise((resolve) => {
    instance.pending.set(id, resolve as (answer: Answer | undefined) => void);
    instance.child.stdin!.write(`${JSON.stringify({ ...message, id })}\n`);
  });
}

export interface Fleet {
  /** The live instances (replacements take the place of the killed). */
  instances: Instance[];
  /** Every instance ever started, killed ones included. */
  every: Instance[];
  /** SIGKILLs an instance while one of its functions runs (waits up to 20 s for one) and starts a replacement; the victim's pid. */
  killMidInvocation(): Promise<number>;
  stop(): void;
}

/** `count` instances of `worker` (default fixtures/built-storm-worker.mjs) with `env`. */
export async function startFleet(env: Record<string, string>, count: number, worker: string = WORKER): Promise<Fleet> {
  const every: Instance[] = [];
  // Started together: on a loaded 2-core machine one instance of a heavy worker (the GCF one
  // imports the Functions Framework) takes 6–8 s to say ready, and one after another used most
  // of a test's time before the storm began.
  let instances: Instance[];
  try {
    instances = await Promise.all(Array.from({ length: count }, () => startInstance(env, every, worker)));
  } catch (error) {
    for (const instance of every) if (!instance.dead) instance.child.kill('SIGKILL');
    throw error;
  }
  return {
    instances,
    every,
    async killMidInvocation() {
      let victim: Instance | undefined;
      await eventually(() => (victim = instances.find((i) => !i.dead && i.running > 0)) !== undefined, 20_000, 10);
      victim!.child.kill('SIGKILL');
      instances.splice(instances.indexOf(victim!), 1, await startInstance(env, every, worker));
      return victim!.pid;
    },
    stop() {
      for (const instance of every) if (!instance.dead) instance.child.kill('SIGKILL');
    },
  };
}

/** What `stormRig`'s `start` set up: the fleet, the env it runs with, its own redis-server. */
export interface StormRig {
  env: Record<string, string> & { STORM_LOG: string; STORM_REDIS_URL: string };
  fleet: Fleet;
  server: OwnServer & { url: string };
}

/**
 * The parts of one storm, all disposed after each test of the calling file (an `afterEach` is
 * registered here): its own redis-server (`appendonly yes`, `appendfsync always`, so a SIGKILL
 * loses no acknowledged write), a fresh log file (`STORM_LOG`) and a fleet of `count` instances
 * of `worker` with `STORM_REDIS_URL`, `STORM_LOG`, `STORM_LEASE_MS`, `STORM_DEADLINE_MS`, a
 * fresh `STORM_PREFIX` and `extra` in their environment.
 */
export function stormRig(label: string, times: { leaseMs: number; deadlineMs: number }): (count: number, extra?: Record<string, string>, worker?: string) => Promise<StormRig> {
  let server: (OwnServer & { url: string }) | undefined;
  let fleet: Fleet | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    fleet?.stop();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    fleet = server = dir = undefined;
  });
  return async (count, extra = {}, worker = WORKER) => {
    dir = mkdtempSync(join(tmpdir(), `steadyfn-${label}-`));
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const env: StormRig['env'] = {
      STORM_REDIS_URL: server.url,
      STORM_LOG: join(dir, 'log.ndjson'),
      STORM_LEASE_MS: String(times.leaseMs),
      STORM_DEADLINE_MS: String(times.deadlineMs),
      STORM_PREFIX: `storm:${randomUUID().slice(0, 8)}:`,
      ...extra,
    };
    writeFileSync(env.STORM_LOG, '');
    fleet = await startFleet(env, count, worker);
    return { env, fleet, server };
  };
}

/** SIGKILLs `server` and starts it again on its port after 200–800 ms. */
export async function restartServer(server: OwnServer): Promise<void> {
  await server.stop();
  await sleep(200 + Math.random() * 600);
  await server.start();
}

/**
 * The chaos most storms run: `kills` instances SIGKILLed mid-invocation 300–700 ms apart, the
 * redis-server restarted (`restartServer`) after each kill whose index `restartAfter` accepts.
 * `killed` (the victims' pids) and `restarts` fill in as it runs.
 */
export function killsAndRestarts(rig: Pick<StormRig, 'fleet' | 'server'>, kills: number, restartAfter: (kill: number) => boolean): { chaos: () => Promise<void>; killed: number[]; restarts: () => number } {
  const killed: number[] = [];
  let restarts = 0;
  const chaos = async (): Promise<void> => {
    for (let k = 0; k < kills; k++) {
      killed.push(await rig.fleet.killMidInvocation());
      if (restartAfter(k)) {
        await restartServer(rig.server);
        restarts++;
      }
      await sleep(300 + Math.random() * 400);
    }
  };
  return { chaos, killed, restarts: () => restarts };
}

export interface StormOutcome {
  keys: string[];
  /** The 200 bodies each key's callers got. */
  answers: Map<string, string[]>;
  /** Retryable answers by code. */
  retried: Map<string, number>;
  /** Answers outside the documented ones (or a caller that gave up). */
  unexpected: unknown[];
  /** Requests lost with a killed instance. */
  lost: number;
  /** The longest time (ms) a request waited for its answer, a retryable one included (lost requests aside). */
  slowest: number;
}

/**
 * Keys arrive every 150 ms, `callers` concurrent callers each, until `chaos` resolves and at
 * least `minKeys` arrived; resolves when every caller has its answer.
 */
export async function storm(fleet: Fleet, callers: number, minKeys: number, chaos: () => Promise<void>): Promise<StormOutcome> {
  const outcome: StormOutcome = { keys: [], answers: new Map(), retried: new Map(), unexpected: [], lost: 0, slowest: 0 };
  const caller = async (key: string): Promise<void> => {
    for (let attempt = 0; attempt < 400; attempt++) {
      const live = fleet.instances.filter((i) => !i.dead);
      const sentAt = Date.now();
      const answer = live.length ? await ask(live[Math.floor(Math.random() * live.length)]!, key) : undefined;
      if (answer) outcome.slowest = Math.max(outcome.slowest, Date.now() - sentAt);
      if (!answer) {
        outcome.lost++;
        await sleep(100);
        continue;
      }
      if (answer.statusCode === 200) {
        outcome.answers.set(key, [...(outcome.answers.get(key) ?? []), answer.body!]);
        return;
      }
      let code: string | undefined;
      try {
        code = (JSON.parse(answer.body ?? '') as { code?: string }).code;
      } catch {
        code = undefined;
      }
      if (answer.thrown || !code || !RETRYABLE.has(code) || ![409, 503, 504].includes(answer.statusCode!) || STACK.test(answer.body ?? '')) {
        outcome.unexpected.push({ key, answer });
        return;
      }
      outcome.retried.set(code, (outcome.retried.get(code) ?? 0) + 1);
      await sleep(100 + Math.random() * 200);
    }
    outcome.unexpected.push({ key, gaveUp: true });
  };
  const running: Promise<void>[] = [];
  let chaosDone = false;
  const arrivals = (async () => {
    while (!chaosDone || outcome.keys.length < minKeys) {
      const key = `order-${randomUUID()}`;
      outcome.keys.push(key);
      for (let c = 0; c < callers; c++) running.push(caller(key));
      await sleep(150);
    }
  })();
  try {
    await chaos();
  } finally {
    chaosDone = true;
  }
  await arrivals;
  await Promise.all(running);
  return outcome;
}

/** Log lines grouped by their text without per-invocation ids, for the test's printout. */
export function errorKinds(lines: string[]): string {
  const kinds = new Map<string, number>();
  for (const line of lines.filter((l) => /"level":"(error|warn)"/.test(l))) {
    const kind = line.replace(/"(requestId|awsRequestId|transactionId|deliveryId|traceId|time|ts|durationMs|idleMs|spanId|coldStart)":("[^"]*"|\d+|true|false),?/g, '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${n}× ${k}`).join('\n');
}

/** One settle attempt (joined effect) or effect (plain) from STORM_LOG; `recordKey` is the store's key of the record. */
export type LogLine = { key: string; pid: number; fence: number | null; effect?: boolean; recordKey?: string };

export const readLog = (path: string): LogLine[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);

/**
 * The joined storm's verdict per key: charged once, applied once, by the attempt holding the
 * highest fence, every attempt with a joinable completion and its own fence. `read` gives a key's
 * count and application list (`recordKeys`: the store keys its attempts logged).
 */
/** `joinedFailures` of the fixture's joined effect, read from the redis-server at `url` (`effects:<key>`, `applied:<key>`). */
export async function joinedFailuresAt(url: string, keys: string[], settles: LogLine[]): Promise<string[]> {
  const redis = new Redis(url);
  try {
    return await joinedFailures(keys, settles, async (key) => ({ charged: Number(await redis.get(`effects:${key}`)), applied: await redis.lrange(`applied:${key}`, 0, -1) }));
  } finally {
    redis.disconnect();
  }
}

export async function joinedFailures(keys: string[], settles: LogLine[], read: (key: string, recordKeys: string[]) => Promise<{ charged: number; applied: string[] }>): Promise<string[]> {
  const failures: string[] = [];
  for (const key of keys) {
    const mine = settles.filter((s) => s.key === key);
    const { charged, applied } = await read(key, [...new Set(mine.map((s) => s.recordKey).filter((k): k is string => k !== undefined))]);
    const fences = mine.map((s) => s.fence);
    if (charged !== 1 || applied.length !== 1) failures.push(`${key}: charged ${charged} times, applied ${JSON.stringify(applied)}, settle attempts ${JSON.stringify(mine)}`);
    if (fences.includes(null)) failures.push(`${key}: an attempt had no joinable completion`);
    if (new Set(fences).size !== fences.length) failures.push(`${key}: two attempts held one fence: ${JSON.stringify(mine)}`);
    if (applied.length === 1 && Number(applied[0]!.split(':')[1]) !== Math.max(...(fences as number[]))) failures.push(`${key}: applied by ${applied[0]}, not by the highest fence`);
  }
  return failures;
}

/** What every built storm must show besides the effects. */
export async function expectCleanAnswers(fleet: Fleet, outcome: StormOutcome, callers: number): Promise<void> {
  const failures: string[] = [];
  for (const key of outcome.keys) {
    const bodies = outcome.answers.get(key) ?? [];
    if (new Set(bodies).size !== 1 || bodies.length !== callers) failures.push(`${key}: bodies ${JSON.stringify([...new Set(bodies)])}, ${bodies.length} answers`);
  }
  const after: Array<number | undefined> = [];
  for (const instance of fleet.instances) after.push((await ask(instance, `after-${randomUUID()}`))?.statusCode);
  const lines = fleet.every.flatMap((i) => i.stderr);
  console.log(errorKinds(lines));
  expect(outcome.unexpected, 'answers outside the documented retryable ones').toEqual([]);
  expect(failures).toEqual([]);
  expect(lines.filter((line) => STACK.test(line)), 'log lines with a stack').toEqual([]);
  expect(after, 'every live instance answers after the restarts').toEqual(fleet.instances.map(() => 200));
  expect(outcome.retried.get('IDEMPOTENCY_IN_PROGRESS') ?? 0, 'duplicates were told in progress').toBeGreaterThan(0);
}

/**
 * For workers that report outcomes: every invocation that failed failed with a documented
 * retryable code (`retryable`, default RETRYABLE; never `INTERNAL` or another 500), and no log
 * line names `INTERNAL`.
 */
export function expectTypedOutcomes(fleet: Fleet, retryable: ReadonlySet<string> = RETRYABLE): void {
  const outcomes = fleet.every.flatMap((i) => i.outcomes);
  expect(outcomes.length, 'the worker reports its outcomes').toBeGreaterThan(0);
  expect(outcomes.filter((o) => !o.ok && !retryable.has(o.code ?? '')), 'failed invocations without a documented retryable code').toEqual([]);
  expect(fleet.every.flatMap((i) => i.stderr).filter((line) => line.includes('INTERNAL')), 'log lines naming INTERNAL').toEqual([]);
}

/** No key stuck after the storm: each key asked once more replays the body its callers got, at once. */
export async function expectReplays(fleet: Fleet, outcome: StormOutcome): Promise<void> {
  const stuck: unknown[] = [];
  for (const key of outcome.keys) {
    const answer = await ask(fleet.instances[0]!, key);
    if (answer?.statusCode !== 200 || answer.body !== outcome.answers.get(key)?.[0]) stuck.push({ key, answer });
  }
  expect(stuck, 'keys that do not replay after the storm').toEqual([]);
}

/** A plain effect's start (`effect`) or end (`effectEnd`) line from STORM_LOG (fixtures/storm-function.mjs), `at` in epoch ms. */
export type EffectLine = LogLine & { at: number; effectEnd?: boolean };

/**
 * The plain effect's verdict per key: at least once, and never two at a time — each effect
 * starts after every earlier one ended (its end line, or its instance's exit when it was
 * killed in the middle), under a higher fence.
 */
export function plainFailures(keys: string[], lines: EffectLine[], fleet: Fleet): string[] {
  const failures: string[] = [];
  for (const key of keys) {
    const starts = lines.filter((l) => l.key === key && l.effect).sort((a, b) => a.at - b.at);
    if (starts.length === 0) failures.push(`${key}: no effect`);
    let endedBy = Number.NEGATIVE_INFINITY;
    let fence = Number.NEGATIVE_INFINITY;
    for (const start of starts) {
      if (start.at < endedBy) failures.push(`${key}: an effect started at ${start.at} while another ran until ${endedBy}: ${JSON.stringify(starts)}`);
      if ((start.fence ?? Number.NEGATIVE_INFINITY) <= fence) failures.push(`${key}: effect fences not increasing: ${JSON.stringify(starts)}`);
      fence = start.fence ?? fence;
      const end = lines.find((l) => l.effectEnd && l.key === key && l.pid === start.pid && l.fence === start.fence)?.at ?? fleet.every.find((i) => i.pid === start.pid)?.exitedAt ?? Number.POSITIVE_INFINITY;
      endedBy = Math.max(endedBy, end);
    }
  }
  return failures;
}
