/**
 * Flush and sweeper racing on the same aggregates from two processes (real child processes),
 * on Redis, Redis Cluster and FerretDB, with real `@steadyfn/lease` stores shared by both and
 * faults injected in each (whole-call failures, partial batches, a death after the send before
 * the mark, a crash after the claim). Then: zero lost, every duplicate delivery carries the same
 * event id, the inbox consumer applies each event once and in seq order per aggregate (kept by
 * FIFO, restored through seq on a standard queue), and each process reports aggregates it had
 * to leave to the other (the lease held across processes).
 *
 * Sizes (fauxqs): OUTBOX_RACE_EVENTS (default 2,000) on Redis and the cluster; FerretDB, where
 * every document write takes a write lease, OUTBOX_RACE_FERRET_EVENTS (default 300).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allApplied, appliedSeqs, FAULT_BACKENDS, openFaultServers, type FaultBackend, type FaultServers, type FaultTarget } from './backends.js';
import { consume } from './harness.js';

const CHILD = fileURLToPath(new URL('./relay-child.mjs', import.meta.url));
const SIZES: Record<FaultBackend, number> = {
  redis: Number(process.env.OUTBOX_RACE_EVENTS ?? 2_000),
  cluster: Number(process.env.OUTBOX_RACE_EVENTS ?? 2_000),
  ferretdb: Number(process.env.OUTBOX_RACE_FERRET_EVENTS ?? 300),
};
const RUNS = FAULT_BACKENDS.flatMap((b) => [[b, false], [b, true]] as Array<[FaultBackend, boolean]>);

interface Finished {
  finished: true;
  sent: number;
  leased: number;
  injected: Record<string, number>;
}

interface RelayProcess {
  /** Resolves once the child has loaded and is waiting at the start barrier. */
  ready: Promise<void>;
  /** Lets the child start relaying. */
  go: () => void;
  finished: Promise<Finished>;
}

/**
 * A relay child held at a start barrier: on a loaded machine one child could otherwise load,
 * relay everything and finish before the other had started, and the two would never race.
 */
function relayProcess(role: 'sweep' | 'flush', target: FaultTarget, queueUrl: string, seed: number): RelayProcess {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, RELAY_ROLE: role, RELAY_BACKEND: target.backend, RELAY_PREFIX: target.prefix, RELAY_DB: target.db, RELAY_QUEUE_URL: queueUrl, RELAY_SQS: 'fauxqs', RELAY_SEED: String(seed), RELAY_LEASE_MS: '5000', RELAY_BARRIER: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const finished = new Promise<Finished>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`${role} child did not finish: ${stderr.slice(0, 2000)}`))), 1_200_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Partial<Finished> & { started?: boolean };
      if (msg.started) started();
      if (msg.finished) {
        clearTimeout(timer);
        resolve(msg as Finished);
      }
    });
    child.on('exit', (code) => code !== 0 && reject(new Error(`${role} child exited (${code}): ${stderr.slice(0, 2000)}`)));
  });
  // A child that dies while loading rejects `finished`; `ready` must not wait for it forever.
  void finished.catch(() => started());
  return { ready, go: () => child.stdin!.end('go\n'), finished };
}

describe.each(RUNS)('flush and sweeper in two processes on %s (FIFO: %s)', (backend, fifo) => {
  const TOTAL = SIZES[backend];
  // A standard queue reorders freely and the consumer restores order by failing early arrivals:
  // short aggregates keep that redelivery churn bounded.
  const PER_AGGREGATE = fifo ? 50 : 5;
  const AGGREGATES = Math.max(1, Math.round(TOTAL / PER_AGGREGATE));
  let servers: FaultServers;
  beforeAll(async () => {
    servers = await openFaultServers(backend, { sqs: 'fauxqs', fifo });
  });
  afterAll(async () => {
    await servers?.close();
  });

  it(`loses nothing and applies each of ${TOTAL} events once, in order`, { timeout: 1_800_000 }, async () => {
    const { redis, target, side, sqs, queue } = servers;
    const startedAt = Date.now();
    const total = await side.record(AGGREGATES, PER_AGGREGATE);
    const seed = 20261130 + (fifo ? 1 : 0) + FAULT_BACKENDS.indexOf(backend) * 2;
    const children = [relayProcess('sweep', target, queue.url, seed), relayProcess('flush', target, queue.url, seed + 100)] as const;
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const [sweeper, flusher] = await Promise.all([children[0].finished, children[1].finished]);
    expect(await side.store.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);
    // Every fault was injected at least once, and the processes met aggregates the other held.
    for (const kind of Object.keys(sweeper.injected)) expect(sweeper.injected[kind]! + (flusher.injected[kind] ?? 0)).toBeGreaterThan(0);
    expect(sweeper.leased + flusher.leased).toBeGreaterThan(0);

    const relayedAt = Date.now();
    const consumed = await consume(sqs, queue.url, redis.client, redis.prefix, () => allApplied(redis, AGGREGATES, PER_AGGREGATE), { fifo, limitMs: 900_000 });
    expect(new Set(consumed.idOf.values()).size).toBe(total); // zero lost
    expect(consumed.conflictingIds).toBe(0); // every duplicate carried the same event id
    for (let a = 0; a < AGGREGATES; a++) expect(await appliedSeqs(redis, a)).toEqual(Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1));
    if (fifo) for (const seqs of consumed.arrival.values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const duplicates = [...consumed.deliveries.values()].reduce((s, n) => s + n - 1, 0);
    console.info(
      `race on ${backend} (${fifo ? 'FIFO' : 'standard'}): ${total} events; sweeper sent ${sweeper.sent}, skipped ${sweeper.leased} held, injected ${JSON.stringify(sweeper.injected)}; flusher sent ${flusher.sent}, skipped ${flusher.leased} held, injected ${JSON.stringify(flusher.injected)}; ${duplicates} duplicate deliveries; relay ${relayedAt - startedAt} ms, consume ${Date.now() - relayedAt} ms`,
    );
  });
});
