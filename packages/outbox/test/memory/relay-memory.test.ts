/**
 * Defect (bench author): a sweep's memory per round was unbounded for a small function. Each
 * round read every leased aggregate's head up to 4 MiB, so a sweep (chunks of 25 aggregates,
 * 4 at a time) could hold ~400 MiB of bodies before sending — after an SQS outage with
 * 200 KiB payloads, exactly the backlog a sweeper meets. A 128-512 MiB function was
 * OOM-killed mid-sweep, and each killed attempt counted as unfinished: a crash loop ended in
 * quarantine. Now each round reads at most `relay.maxBytesPerRound` of bodies.
 *
 * A real sweeper process with a V8 heap cap (HEAP_MB), the relay options' defaults, a backlog
 * of AGGREGATES × PER_AGGREGATE events of ~200 KiB on the real store (Redis; the embedded
 * outbox on FerretDB with OUTBOX_MEMORY_FERRETDB=1 — about 8 minutes there), to a FIFO queue
 * on fauxqs. It must finish, nothing quarantined, and the
 * queue must hold every event exactly once, in seq order per aggregate. On the code before the
 * fix the child dies at this cap ("Reached heap limit").
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { drainQueue } from '../support.js';
import { openFaultServers, type FaultServers } from '../fault/backends.js';
import { redisWrite } from '../../src/capture/redis.js';
import { embeddedWrite } from '../../src/capture/mongo-embedded.js';
import { mongoEmbeddedOutbox } from '../../src/stores/mongo-embedded.js';
import { prepareEvent } from '../../src/envelope.js';

const CHILD = fileURLToPath(new URL('./relay-memory-child.mjs', import.meta.url));
const HEAP_MB = Number(process.env.OUTBOX_MEMORY_HEAP_MB ?? 64);
const AGGREGATES = Number(process.env.OUTBOX_MEMORY_AGGREGATES ?? 40);
const PER_AGGREGATE = Number(process.env.OUTBOX_MEMORY_EVENTS ?? 10);
const PAD = 'x'.repeat(200 * 1024);
const events = { Big: { aggregateType: 'tick', schema: z.object({ n: z.number().int(), pad: z.string() }) } };

interface Finished {
  finished: true;
  sent: number;
  quarantined: number;
  heapPeak: number;
  rssPeak: number;
  externalPeak: number;
  heapBefore: number;
  rssBefore: number;
}

function sweeperProcess(servers: FaultServers): Promise<Finished> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, MEM_BACKEND: servers.target.backend, MEM_PREFIX: servers.target.prefix, MEM_DB: servers.target.db, MEM_QUEUE_URL: servers.queue.url, MEM_SQS: 'fauxqs' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    let done: Finished | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Partial<Finished>;
      if (msg.finished) done = msg as Finished;
    });
    child.on('exit', (code, signal) => (done && code === 0 ? resolve(done) : reject(new Error(`sweeper (heap ${HEAP_MB} MiB) exited (${code ?? signal}): ${stderr.slice(-1500)}`))));
  });
}

/** Writes the backlog: each aggregate's events in seq order, a few per write. */
async function record(servers: FaultServers): Promise<number> {
  const write = servers.target.backend === 'redis' ? redisWriter(servers) : await embeddedWriter(servers);
  let total = 0;
  for (let a = 0; a < AGGREGATES; a++) {
    for (let seq = 1; seq <= PER_AGGREGATE; seq += 2) {
      const batch = [seq, seq + 1].filter((n) => n <= PER_AGGREGATE).map((n) => prepareEvent(events, { type: 'Big', aggregateId: `agg-${a}`, payload: { n, pad: PAD } }, {}));
      await write(`agg-${a}`, batch);
      total += batch.length;
    }
  }
  return total;
}

function redisWriter(servers: FaultServers) {
  const { client } = servers.redis;
  const prefix = servers.target.prefix;
  return async (_id: string, batch: ReturnType<typeof prepareEvent>[]) => void (await redisWrite(client, prefix, { checks: [], commands: [], events: batch }));
}

async function embeddedWriter(servers: FaultServers) {
  const db = servers.mongo!.db;
  const outbox = mongoEmbeddedOutbox({ db: db as never, collection: 'ticks', aggregateType: 'tick', writeLease: servers.side.lease, writeWaitMs: 30_000 });
  return async (id: string, batch: ReturnType<typeof prepareEvent>[]) => {
    const result = await embeddedWrite(await outbox.collection(), 'tick', { filter: { _id: id }, update: { $inc: { n: batch.length } }, upsert: true }, batch, outbox.limits, await outbox.serialisation(), undefined, await outbox.registry());
    if (!result.matched) throw new Error(`not written: ${id}`);
  };
}

// FerretDB 1.24 takes about 8 minutes for this backlog (documents of 2 MiB rewritten per write and per mark): opt in.
const FERRETDB = process.env.OUTBOX_MEMORY_FERRETDB === '1';

describe.each(['redis', 'ferretdb'] as const)('a sweep of a large backlog in a small function (%s)', (backend) => {
  const skip = backend === 'ferretdb' && !FERRETDB;
  let servers: FaultServers;
  beforeAll(async () => {
    if (skip) return;
    servers = await openFaultServers(backend, { sqs: 'fauxqs', fifo: true });
  });
  afterAll(async () => {
    await servers?.close();
  });

  it.skipIf(skip)(`relays ${AGGREGATES} aggregates × ${PER_AGGREGATE} events of 200 KiB with a ${HEAP_MB} MiB heap: all once, in order, nothing quarantined${skip ? ' (FerretDB: about 8 minutes; set OUTBOX_MEMORY_FERRETDB=1)' : ''}`, { timeout: 900_000 }, async () => {
    const total = await record(servers);
    const finished = await sweeperProcess(servers);
    expect(finished).toMatchObject({ sent: total, quarantined: 0 });
    expect(await servers.side.store.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);
    expect(await servers.side.store.listQuarantined({ limit: 10 })).toEqual([]);
    const seqs = new Map<string, number[]>();
    for (const m of await drainQueue(servers.sqs, servers.queue.url)) {
      const e = JSON.parse(m.Body!) as { aggregateId: string; seq: number };
      seqs.set(e.aggregateId, [...(seqs.get(e.aggregateId) ?? []), e.seq]);
    }
    const expected = Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1);
    expect(seqs.size).toBe(AGGREGATES);
    for (const [, got] of seqs) expect(got).toEqual(expected);
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.log(`relay memory (${backend}): heap cap ${HEAP_MB} MiB; heap ${mib(finished.heapBefore)} before the sweep, peak ${mib(finished.heapPeak)}; RSS ${mib(finished.rssBefore)} before, peak ${mib(finished.rssPeak)}; external + array buffers peak ${mib(finished.externalPeak)}`);
  });
});
