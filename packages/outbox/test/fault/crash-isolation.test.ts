/**
 * Review finding (rvo, s51): every head event read in a round got a "started" count, and an
 * attempt that never finished counted toward `maxUnfinishedAttempts` for every event of the
 * round — so three relays killed mid-send (scale-in, deploy, OOM) quarantined every aggregate
 * of their rounds (up to chunk × parallel), `crashes: 3 relay attempts never finished`, and
 * delivery stopped until a manual redrive. Suspects are now isolated before they are judged:
 * an event with an unfinished attempt is set aside from a round of others (its attempt ended
 * at once, nothing counted) and relayed in a round of its own; only crashes met alone count.
 *
 * Real child processes (spawnSync) that SIGKILL themselves mid-send run one sweep each, on
 * Redis, Redis Cluster, FerretDB (embedded documents) and FerretDB (one document per event);
 * between runs the test waits for their leases to lapse (a state, not a duration).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../../src/relay/metrics.js';
import { sweep } from '../../src/relay/sweeper.js';
import type { AggregateRef } from '../../src/relay/types.js';
import { sqsSender } from '../../src/sqs.js';
import { createQueue, drainQueue, eventually, openMongo, openRedis, sqsClient } from '../support.js';
import { openFaultServers, type FaultBackend, type RelaySide } from './backends.js';
import { collectionSide } from './crash-sides.js';

const CHILD = fileURLToPath(new URL('./crash-sweep-child.mjs', import.meta.url));
const RUN = { leaseMs: 1000, maxEventsPerAggregate: 10, poison: { maxAttempts: 10, maxUnfinishedAttempts: 3 }, reserveMs: 0, remainingMs: () => 600_000 };
const SWEEP = { graceMs: 0, maxAggregates: 1000, chunk: 100, parallel: 1, retainSentMs: 0, cleanupLimit: 1 };
type Backend = FaultBackend | 'collection';

interface Opened {
  side: RelaySide;
  target: { backend: Backend; prefix: string; db: string };
  sqs: Awaited<ReturnType<typeof sqsClient>>;
  queue: { url: string; remove(): Promise<void> };
  close(): Promise<void>;
}

async function open(backend: Backend): Promise<Opened> {
  if (backend !== 'collection') return openFaultServers(backend) as Promise<Opened>;
  const redis = await openRedis('redis');
  const mongo = await openMongo();
  const target = { backend, prefix: redis.prefix, db: mongo.db.databaseName };
  const side = await collectionSide(target);
  const sqs = await sqsClient('moto');
  const queue = await createQueue(sqs);
  return { side, target, sqs, queue, close: async () => (await queue.remove(), await side.close(), await mongo.close(), await redis.close()) };
}

describe.each<Backend>(['redis', 'cluster', 'ferretdb', 'collection'])('relays killed mid-send on %s', (backend) => {
  const made: Opened[] = [];
  afterAll(async () => {
    for (const o of made) await o.close().catch(() => undefined);
  });

  /** 12 aggregates with `per` events each, written before any relay runs. */
  async function setup(per: number) {
    const o = await open(backend);
    made.push(o);
    await o.side.record(12, per);
    const refs = await o.side.store.listPending({ limit: 1000, before: Date.now() + 60_000 });
    expect(refs).toHaveLength(12);
    return { ...o, refs };
  }

  /** One sweep in a child process that SIGKILLs itself on a send (`kill`: `all`, or an aggregate id). */
  function killedSweep(o: Opened, kill: string): void {
    const child = spawnSync(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: { ...process.env, CRASH_BACKEND: o.target.backend, CRASH_PREFIX: o.target.prefix, CRASH_DB: o.target.db, CRASH_QUEUE_URL: o.queue.url, CRASH_KILL: kill },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.signal, `the child was not killed mid-send: ${child.stdout} ${child.stderr.slice(0, 2000)}`).toBe('SIGKILL');
  }

  /** Until every lease the killed relay left has lapsed (by the lease store's clock): claimed here, then let go. */
  async function leasesLapsed(o: Opened, refs: AggregateRef[]): Promise<void> {
    const keys = refs.map((ref) => o.side.store.leaseKey(ref));
    await eventually(async () => {
      const got = await o.side.lease.claimMany(keys.map((key) => ({ key, owner: 'probe', leaseMs: 1000 })), {});
      await o.side.lease.settleMany(got.flatMap((g, i) => (g.claimed ? [{ key: keys[i]!, owner: 'probe', fence: g.fence }] : [])), {});
      return got.every((g) => g.claimed);
    }, 30_000, 100);
  }

  async function healthySweep(o: Opened) {
    const metrics = new MetricsRecorder();
    await sweep({ store: o.side.store, lease: o.side.lease, sender: sqsSender({ client: o.sqs, queueUrl: o.queue.url }), metrics }, RUN, SWEEP);
    return metrics.snapshot();
  }

  const delivered = async (o: Opened) => new Set((await drainQueue(o.sqs, o.queue.url)).map((m) => JSON.parse(m.Body!) as { id: string; aggregateId: string }).map((e) => `${e.aggregateId} ${e.id}`));

  it('three killed sweeps quarantine nothing: a healthy sweep then delivers all 12', { timeout: 300_000 }, async () => {
    const o = await setup(1);
    for (let i = 0; i < 3; i++) {
      killedSweep(o, 'all');
      await leasesLapsed(o, o.refs);
    }
    const metrics = await healthySweep(o);
    expect(metrics.quarantined).toBe(0);
    expect(await o.side.store.listQuarantined({ limit: 100 })).toEqual([]);
    expect(await o.side.store.listPending({ limit: 1000, before: Date.now() + 60_000 })).toEqual([]);
    const ids = await delivered(o);
    expect(new Set([...ids].map((k) => k.split(' ')[0])).size).toBe(12);
    expect(ids.size).toBe(12);
  });

  it('an event that kills its relay every time: only its aggregate is quarantined (with its later event), the other 11 delivered', { timeout: 300_000 }, async () => {
    const o = await setup(2);
    // Killed in the first round of all, then alone maxUnfinishedAttempts (3) times.
    for (let i = 0; i < 4; i++) {
      killedSweep(o, 'agg-3');
      await leasesLapsed(o, o.refs);
    }
    const metrics = await healthySweep(o);
    expect(metrics.quarantined).toBe(1);
    const held = await o.side.store.listQuarantined({ limit: 100 });
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ aggregate: expect.stringContaining('agg-3'), fromSeq: 1, reason: 'crashes: 3 relay attempts never finished' });
    const ids = [...(await delivered(o))];
    expect(ids).toHaveLength(22);
    expect(ids.some((k) => k.startsWith('agg-3 '))).toBe(false);
    expect((await o.side.store.listPending({ limit: 1000, before: Date.now() + 60_000 })).map((r) => r.aggregate)).toEqual([]);
  });
});
