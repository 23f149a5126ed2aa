/**
 * The relay's side of the fault tests on each real backend — the store and a real
 * `@steadyfn/lease` store on the same server — for this process and for the child processes
 * the tests start (they open the same data by prefix / database name, so leases are shared
 * across processes as in production):
 *
 *   redis     Redis outbox, `redisLeaseStore` (its settle fragment in the mark script)
 *   cluster   the same on the 3-master Redis Cluster (a hash tag, so a partition, per aggregate)
 *   ferretdb  embedded outbox on FerretDB (documents `ticks`), `mongoLeaseStore` for the relay
 *             leases and the documents' write leases
 */
import { Cluster, Redis } from 'ioredis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createQueue, openMongo, openRedis, sqsClient, type MongoBackend, type RedisBackend } from '../support.js';
import type { ServerName } from '../sqs-servers.js';
import { MongoClient } from 'mongodb';
import { mongoLeaseStore, redisLeaseStore } from '@steadyfn/lease';
import { clusterNodes } from '../../../../test/support/redis.js';
import { embeddedWrite } from '../../src/capture/mongo-embedded.js';
import { redisWrite } from '../../src/capture/redis.js';
import { prepareEvent } from '../../src/envelope.js';
import { mongoEmbeddedOutbox, type MongoEmbeddedOutboxStore } from '../../src/stores/mongo-embedded.js';
import { redisRelayStore } from '../../src/stores/redis.js';
import type { RelayLease, RelayStore } from '../../src/relay/types.js';
import { events } from './harness.js';

export type FaultBackend = 'redis' | 'cluster' | 'ferretdb';
export const FAULT_BACKENDS: FaultBackend[] = ['redis', 'cluster', 'ferretdb'];

export interface RelaySide {
  store: RelayStore;
  lease: RelayLease;
  /** Records `aggregates × perAggregate` events (1-5 per write, aggregates interleaved): `agg-<i>`, type `Tick`, payload n = seq. */
  record(aggregates: number, perAggregate: number): Promise<number>;
  close(): Promise<void>;
}

/** Where one test's data lives: a Redis key prefix, or a FerretDB database. */
export interface FaultTarget {
  backend: FaultBackend;
  prefix: string;
  db: string;
}

/** The relay store and lease on `target`'s backend (a new client: call it in each process). */
export async function relaySide(target: FaultTarget): Promise<RelaySide> {
  if (target.backend === 'ferretdb') {
    const mongo = await new MongoClient(process.env.MONGODB_URI!, { maxPoolSize: 30 }).connect();
    const db = mongo.db(target.db);
    const lease = mongoLeaseStore({ collection: db.collection('leases') });
    const outbox: MongoEmbeddedOutboxStore = mongoEmbeddedOutbox({ db: db as never, collection: 'ticks', aggregateType: 'tick', writeLease: lease, writeWaitMs: 30_000 });
    return {
      store: outbox.relay,
      lease,
      record: (aggregates, perAggregate) =>
        recordInterleaved(aggregates, perAggregate, async (id, batch) => {
          const result = await embeddedWrite(await outbox.collection(), 'tick', { filter: { _id: id }, update: { $inc: { n: batch.length } }, upsert: true }, batch, outbox.limits, await outbox.serialisation(), undefined, await outbox.registry());
          if (!result.matched) throw new Error(`not written: ${id}`);
        }, 4),
      close: () => mongo.close(),
    };
  }
  const client = target.backend === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
  const lease = redisLeaseStore({ client, prefix: `${target.prefix}lease:` });
  return {
    store: redisRelayStore({ client, prefix: target.prefix }).withLease!(lease),
    lease,
    record: (aggregates, perAggregate) =>
      recordInterleaved(aggregates, perAggregate, async (id, batch) => {
        await redisWrite(client, target.prefix, { checks: [], commands: [['HINCRBY', `${target.prefix}state:{${id}}`, 'n', batch.length]], events: batch });
      }, 64),
    close: async () => void client.disconnect(),
  };
}

/** Writes each aggregate's events in seq order, 1-5 per write, aggregates interleaved, `parallel` writes at once (never two of one aggregate). */
async function recordInterleaved(aggregates: number, perAggregate: number, write: (id: string, batch: ReturnType<typeof prepareEvent>[]) => Promise<void>, parallel: number): Promise<number> {
  const next = new Array<number>(aggregates).fill(0);
  let total = 0;
  for (let round = 0; next.some((n) => n < perAggregate); round++) {
    const writes: Array<() => Promise<void>> = [];
    for (let a = 0; a < aggregates; a++) {
      const n = Math.min(perAggregate - next[a]!, 1 + ((a + round) % 5));
      if (n <= 0) continue;
      const id = `agg-${a}`;
      const batch = Array.from({ length: n }, (_, i) => prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: next[a]! + i + 1 } }, {}));
      next[a]! += n;
      total += n;
      writes.push(() => write(id, batch));
    }
    for (let i = 0; i < writes.length; i += parallel) await Promise.all(writes.slice(i, i + parallel).map((w) => w()));
  }
  return total;
}

/**
 * One fault test's servers: Redis for the consumer's effects (the cluster for the cluster's
 * run), FerretDB for its run, the relay's side on them, and a fresh queue on an SQS server.
 */
export interface FaultServers {
  redis: RedisBackend;
  mongo: MongoBackend | undefined;
  target: FaultTarget;
  side: RelaySide;
  sqs: SQSClient;
  queue: { url: string; remove(): Promise<void> };
  close(): Promise<void>;
}

export async function openFaultServers(backend: FaultBackend, options: { sqs?: ServerName; fifo?: boolean } = {}): Promise<FaultServers> {
  const redis = await openRedis(backend === 'cluster' ? 'cluster' : 'redis');
  const mongo = backend === 'ferretdb' ? await openMongo() : undefined;
  const target = { backend, prefix: redis.prefix, db: mongo?.db.databaseName ?? '' };
  const side = await relaySide(target);
  const sqs = await sqsClient(options.sqs ?? 'moto');
  const queue = await createQueue(sqs, { fifo: options.fifo === true });
  return {
    redis,
    mongo,
    target,
    side,
    sqs,
    queue,
    async close() {
      await queue.remove();
      await side.close();
      await mongo?.close();
      await redis.close();
    },
  };
}

/** Each aggregate `agg-0…` has had `perAggregate` events applied by the harness consumer. */
export async function allApplied(redis: RedisBackend, aggregates: number, perAggregate: number): Promise<boolean> {
  for (let a = 0; a < aggregates; a++) if ((await redis.client.llen(`${redis.prefix}applied:{agg-${a}}`)) < perAggregate) return false;
  return true;
}

/** The seqs the harness consumer applied to aggregate `agg-<a>`, in the order it applied them. */
export async function appliedSeqs(redis: RedisBackend, a: number): Promise<number[]> {
  return (await redis.client.lrange(`${redis.prefix}applied:{agg-${a}}`, 0, -1)).map(Number);
}
