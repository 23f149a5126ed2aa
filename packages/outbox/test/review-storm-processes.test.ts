/**
 * A multi-process relay storm on the public API (test/storm/storm-child.mjs): two writer
 * processes commit events for four aggregates (each invocation flushes after its commit; one
 * writer SIGKILLs itself inside a flush, right after SQS accepted a batch, and is started again) while
 * three sweeper processes race them with `graceMs: 0` — one SIGKILLs itself right after SQS
 * accepted a batch, before the relay's mark (restarted, and killed again if a batch comes its
 * way), one holds its
 * first accepted batch back until its lease ran out, another process got the same events
 * accepted and they left the store, and only then lets its relay mark (the late mark must be
 * fenced). Every relaying process's SQS client fails 5 % of its calls (throttling) and refuses
 * 15 % of the entries one by one (retryable). On Redis the store is this test's own `redis-server` (`appendfsync always`),
 * SIGKILLed and started again mid-storm, once the staller has reported (sweepers still racing). Redis, Redis Cluster and the embedded outbox on
 * FerretDB; FIFO and standard queues on moto and fauxqs.
 *
 * Checked once everything is drained, from the stores, the queue and a log of every
 * SendMessageBatch (written before the call and after SQS's answer, awaited, in one Redis list):
 * - the store holds nothing pending or quarantined;
 * - every event is delivered: for each aggregate, seqs 1…(the store's last seq), at least what the
 *   writers saw committed, each seq under one event id;
 * - no event left the store without SQS accepting it (every id delivered was accepted in the log);
 * - order: no SendMessageBatch carried event k+1 of an aggregate before k was accepted (same call
 *   allowed on a standard queue only); on FIFO, each aggregate's deliveries strictly increase;
 * - the stalled relay's late marks were fenced (it reported the lease lost, marked nothing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { mongoEmbeddedOutbox, redisOutbox } from '../src/index.js';
import type { RelayStore } from '../src/relay/types.js';
import { createQueue, drainQueue, openMongo, openRedis, runId, sqsClient, type MongoBackend, type RedisBackend } from './support.js';
import { sqsServers, type ServerName } from './sqs-servers.js';

const CHILD = fileURLToPath(new URL('./storm/storm-child.mjs', import.meta.url));
const AGGS = 4;
/** Writes per writer process (1-3 events each); FerretDB serialises each document's writers under a write lease. */
const WRITES: Record<string, number> = { redis: 25, cluster: 20, ferretdb: 12 };
/**
 * The relay's lease per backend. On FerretDB a round's marks wait for the document's write lease
 * (writers serialised, up to `writeWaitMs`): with a 3 s lease and a 20 s wait, a loaded machine let
 * the lease run out before the marks in round after round, every holder fenced by the next, and
 * the staller was never taken over within 60 s (seen once in CI). `outbox()` now refuses a
 * relay lease below twice `writeWaitMs`: 10 s here with a 5 s wait. Redis marks do not wait.
 */
const LEASE_MS: Record<string, number> = { redis: 3_000, cluster: 3_000, ferretdb: 10_000 };
const WRITE_WAIT_MS = 5_000;

type Backend = 'redis' | 'cluster' | 'ferretdb';
const RUNS: Array<[Backend, 'fifo' | 'standard', ServerName]> = [
  ['redis', 'fifo', 'moto'],
  ['redis', 'standard', 'fauxqs'],
  ['cluster', 'fifo', 'fauxqs'],
  ['cluster', 'standard', 'moto'],
  ['ferretdb', 'fifo', 'fauxqs'],
  ['ferretdb', 'standard', 'moto'],
];

interface Child {
  role: string;
  proc: ChildProcess;
  messages: Array<Record<string, unknown>>;
  next(predicate: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<void>;
  stderr: () => string;
}

const children: Child[] = [];
let own: (OwnServer & { url: string }) | undefined;
afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await own?.dispose();
  own = undefined;
});

function start(role: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, ...env, STORM_ROLE: role },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += String(d)));
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<{ predicate: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as Record<string, unknown>;
    messages.push(m);
    for (const w of [...waiters]) if (w.predicate(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const child: Child = {
    role,
    proc,
    messages,
    exited,
    stderr: () => stderr,
    next: (predicate) =>
      new Promise((resolve, reject) => {
        const seen = messages.find(predicate);
        if (seen) return resolve(seen);
        waiters.push({ predicate, resolve });
        void exited.then(() => setTimeout(() => reject(new Error(`${role} exited (${proc.exitCode ?? proc.signalCode}) before the expected line: ${stderr.slice(0, 3000)}`)), 200));
      }),
  };
  children.push(child);
  return child;
}

/** `promise`, or a failure naming `label` and what every child said after `ms`. */
const phases: string[] = [];
async function step<T>(label: string, promise: Promise<T>, ms = 60_000): Promise<T> {
  const from = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: not within ${ms} ms; children: ${JSON.stringify(children.map((c) => ({ role: c.role, exit: c.proc.exitCode ?? c.proc.signalCode, said: c.messages.slice(-3), stderr: c.stderr().slice(-500) })))}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    phases.push(`${label} ${Date.now() - from}`);
    clearTimeout(timer);
  }
}

describe.each(RUNS)('a relay storm of five processes on %s (%s queue on %s)', (backend, kind, server) => {
  it('delivers every event, in order, marks only what SQS accepted, fences the late mark, leaves nothing pending', { timeout: 300_000 }, async () => {
    const fifo = kind === 'fifo';
    const began = Date.now();
    const sqs = await sqsClient(server);
    const queue = await createQueue(sqs, { fifo });
    const shared = new Redis(process.env.REDIS_URL!);
    const logKey = `obx-storm-${runId()}:log`;
    let redis: RedisBackend | undefined;
    let mongo: MongoBackend | undefined;
    let storeClient: Redis | undefined;
    let relay: RelayStore;
    let lastSeq: (agg: string) => Promise<number>;
    const env: Record<string, string> = { STORM_BACKEND: backend, STORM_QUEUE_URL: queue.url, STORM_SQS_ENDPOINT: sqsServers().find((s) => s.name === server)!.endpoint, STORM_LOG: logKey, STORM_AGGS: String(AGGS), STORM_WRITES: String(WRITES[backend]), STORM_LEASE_MS: String(LEASE_MS[backend]), STORM_WRITE_WAIT_MS: String(WRITE_WAIT_MS) };
    try {
      if (backend === 'ferretdb') {
        mongo = await openMongo();
        env.STORM_DB = mongo.db.databaseName;
        const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'ticks', aggregateType: 'tick', writeLease: mongo.lease });
        await store.ensureIndexes();
        relay = store.relay;
        lastSeq = async (agg) => Number((await mongo!.db.collection<{ _id: string; _outboxSeq?: number }>('ticks').findOne({ _id: agg }))?._outboxSeq ?? 0);
      } else if (backend === 'cluster') {
        redis = await openRedis('cluster');
        env.STORM_PREFIX = redis.prefix;
        relay = redisOutbox({ client: redis.client, prefix: redis.prefix }).relay;
        lastSeq = async (agg) => Number(await redis!.client.hget(`${redis!.prefix}{${agg}}:seq`, `tick/${agg}`)) || Math.max(0, ...(await redis!.client.hvals(`${redis!.prefix}{${agg}}:seq`)).map(Number));
      } else {
        own = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
        storeClient = new Redis(own.url, { maxRetriesPerRequest: 1 });
        storeClient.on('error', () => undefined);
        env.STORM_STORE_URL = own.url;
        env.STORM_PREFIX = `obx-storm:`;
        relay = redisOutbox({ client: storeClient, prefix: env.STORM_PREFIX }).relay;
        lastSeq = async (agg) => Math.max(0, ...(await storeClient!.hvals(`${env.STORM_PREFIX}{${agg}}:seq`)).map(Number));
      }

      const writers = [start('writer', env), start('writer', { ...env, STORM_KILL_AFTER: '1' })];
      let killer = start('killer', { ...env, STORM_KILL_AFTER: '1' });
      const staller = start('staller', env);
      const sweeper = start('sweeper', env);
      await step('start', Promise.all(children.map((c) => c.next((m) => m.started === true))));

      // The killer dies after SQS accepted its first batch, before the mark; the second writer inside
      // a flush after its first (three racing sweepers hold most aggregates when a flush comes).
      // Started again, the killer dies again after its second accepted batch if one comes its way;
      // the writer writes on (its commits before the kill are not counted). The writers go on
      // writing until both have died and the staller has stalled, so every sweeper keeps finding
      // fresh events to race for.
      const [killedSweeper, killedWriter] = [killer, writers[1]!];
      await step('kills', Promise.all([killedSweeper, killedWriter].map(async (c) => (await c.next((m) => Array.isArray(m.killing)), await c.exited))));
      expect([killedSweeper.proc.signalCode, killedWriter.proc.signalCode]).toEqual(['SIGKILL', 'SIGKILL']);
      killer = start('killer', { ...env, STORM_KILL_AFTER: '2' });
      writers[1] = start('writer', env);

      const stalled = (await step('stalled', staller.next((m) => m.stalled !== undefined), 150_000)).stalled as { fenced: number; ids: string[] };
      if (own) {
        // The store's own Redis dies mid-relay (the writers and sweepers go on) and comes back on
        // the same port. Only once the staller has stalled: its take-over check and its late marks
        // read the store, and met by the restart (the children start seconds apart on a loaded
        // machine, so its stall can end just then) its marks failed as an outage, not fenced,
        // and it reported no lease lost.
        await own.stop();
        await new Promise((r) => setTimeout(r, 300));
        await own.start();
      }
      const committed: Record<string, number> = {};
      for (const w of writers) {
        w.proc.stdin!.end('stop\n');
        const done = await step('writer', w.next((m) => m.committed !== undefined));
        for (const [agg, n] of Object.entries(done.committed as Record<string, number>)) committed[agg] = (committed[agg] ?? 0) + n;
      }
      // The remaining sweepers drain what is left.
      const deadline = Date.now() + 120_000;
      const drainFrom = Date.now();
      while ((await relay.listPending({ limit: 10, before: Date.now() + 60_000 })).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      phases.push(`drain ${Date.now() - drainFrom}`);
      for (const c of [staller, sweeper]) c.proc.stdin!.end('stop\n');
      await step('finish', Promise.all([staller.next((m) => m.finished === true), sweeper.next((m) => m.finished === true)]));
      const killedAgain = killer.messages.some((m) => Array.isArray(m.killing));
      if (killer.proc.exitCode === null && killer.proc.signalCode === null) killer.proc.kill('SIGKILL');

      expect(await relay.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);
      expect(await relay.listQuarantined({ limit: 10 })).toEqual([]);

      const delivered = await drainQueue(sqs, queue.url, 3);
      const bodies = delivered.map((m) => JSON.parse(m.Body!) as { id: string; aggregateId: string; seq: number });
      const log = (await shared.lrange(logKey, 0, -1)).map((l) => JSON.parse(l) as { k: 'B' | 'A'; pid: number; call?: string; e?: Array<[string, string, number]>; ids?: string[] });
      const acceptedIds = new Set(log.flatMap((l) => (l.k === 'A' ? l.ids! : [])));

      const problems: string[] = [];
      for (let a = 0; a < AGGS; a++) {
        const agg = `a-${a}`;
        const last = await lastSeq(agg);
        if (last < (committed[agg] ?? 0)) problems.push(`${agg}: the store's last seq ${last} < ${committed[agg]} committed`);
        const mine = bodies.filter((b) => b.aggregateId === agg);
        const idOf = new Map<number, string>();
        for (const b of mine) {
          if (idOf.has(b.seq) && idOf.get(b.seq) !== b.id) problems.push(`${agg}#${b.seq}: two event ids`);
          idOf.set(b.seq, b.id);
          if (!acceptedIds.has(b.id)) problems.push(`${agg}#${b.seq}: delivered but never accepted in the log`);
        }
        const missing = Array.from({ length: last }, (_, i) => i + 1).filter((s) => !idOf.has(s));
        if (missing.length > 0) problems.push(`${agg}: seqs never delivered: ${missing.join(',')}`);
        if (fifo) {
          const order = mine.map((b) => b.seq);
          for (let i = 1; i < order.length; i++) if (order[i]! <= order[i - 1]!) problems.push(`${agg}: FIFO delivered seq ${order[i]} after ${order[i - 1]}`);
        }
      }
      // Order of sends: event k+1 only in a call that starts after k was accepted.
      const acceptedSoFar = new Set<string>();
      const idBySlot = new Map<string, string>();
      for (const b of bodies) idBySlot.set(`${b.aggregateId}#${b.seq}`, b.id);
      for (const entry of log) {
        if (entry.k === 'A') for (const id of entry.ids!) acceptedSoFar.add(id);
        else {
          for (const [, agg, seq] of entry.e!) {
            if (seq === 1) continue;
            const before = idBySlot.get(`${agg}#${seq - 1}`);
            if (before !== undefined && acceptedSoFar.has(before)) continue;
            problems.push(`pid ${entry.pid} sent ${agg}#${seq} before ${agg}#${seq - 1} was accepted`);
          }
        }
      }
      // Neither queue kind puts k and k+1 of one aggregate in one call (onePerGroupPerBatch is the
      // default on standard queues too), so SQS refusing k one by one can never take k+1 first.
      const callOf = new Map(log.filter((l) => l.k === 'A').map((l) => [l.call!, new Set(l.ids!)]));
      let overtaken = 0;
      for (const entry of log) {
        if (entry.k !== 'B') continue;
        const took = callOf.get(entry.call!) ?? new Set<string>();
        const slots = new Map(entry.e!.map(([id, agg, seq]) => [`${agg}#${seq}`, id]));
        for (const [id, agg, seq] of entry.e!) if (took.has(id) && slots.has(`${agg}#${seq - 1}`) && !took.has(slots.get(`${agg}#${seq - 1}`)!)) overtaken++;
      }
      expect(overtaken).toBe(0);
      expect(stalled.fenced, 'the stalled relay reported its lease lost before its marks').toBeGreaterThan(0);
      console.info(`storm on ${backend} ${kind} ${server}: ${bodies.length} deliveries of ${Object.values(committed).reduce((s, n) => s + n, 0)} committed events, ${log.filter((l) => l.k === 'B').length} SendMessageBatch calls, ${overtaken} events accepted in a call that refused their predecessor, killer killed ${killedAgain ? 'twice' : 'once'}, ${Date.now() - began} ms (${phases.splice(0).join(', ')})`);
      expect(problems.slice(0, 20)).toEqual([]);
    } finally {
      await queue.remove();
      await shared.del(logKey);
      shared.disconnect();
      storeClient?.disconnect();
      await redis?.close();
      await mongo?.close();
    }
  });
});
