/**
 * The real stores the lease tests run on — Redis, the 3-master Redis Cluster and FerretDB from
 * `bash test/services/services.sh start` — plus the memory store. Each opening writes under
 * its own prefix or collection and removes it when closed.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import { requireService } from '../../../../test/services/env.js';
import { memoryLeaseStore, mongoLeaseStore, redisLeaseStore, type LeaseStore, type MongoLeaseStore, type RedisLeaseStore } from '../../src/index.js';

/** `mongodb` reads as the store chooses for the server (by `_id` on FerretDB); `mongodb-query` always by query. */
export type BackendName = 'memory' | 'redis' | 'cluster' | 'mongodb' | 'mongodb-query';
export const REAL_BACKENDS: BackendName[] = ['redis', 'cluster', 'mongodb', 'mongodb-query'];
export const ALL_BACKENDS: BackendName[] = ['memory', ...REAL_BACKENDS];

export interface Backend {
  name: BackendName;
  store: LeaseStore;
  redis?: Redis | Cluster;
  redisStore?: RedisLeaseStore;
  mongo?: MongoClient;
  collection?: Collection;
  mongoStore?: MongoLeaseStore;
  prefix: string;
  /** Another store on the same records (e.g. another process's). */
  another(): LeaseStore;
  close(): Promise<void>;
}

export function clusterNodes(list = process.env.REDIS_CLUSTER_NODES ?? ''): Array<{ host: string; port: number }> {
  return list
    .split(',')
    .filter(Boolean)
    .map((hp) => {
      const [host, port] = hp.split(':');
      return { host: host!, port: Number(port) };
    });
}

/** Deletes every key under `prefix` on each master. */
export async function dropPrefix(redis: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const keys = await node.keys(`${prefix}*`);
    for (const key of keys) await node.del(key);
  }
}

export async function openBackend(name: BackendName, options: { retainMs?: number } = {}): Promise<Backend> {
  const run = randomUUID().slice(0, 8);
  if (name === 'memory') {
    const store = memoryLeaseStore(options);
    return { name, store, prefix: '', another: () => store, close: async () => store.clear() };
  }
  if (name === 'redis' || name === 'cluster') {
    await requireService(name === 'redis' ? 'redis' : 'redis-cluster');
    const redis = name === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
    const prefix = `lease-test:${run}:`;
    const open = (): RedisLeaseStore => redisLeaseStore({ client: redis, prefix, ...options });
    const store = open();
    return {
      name,
      store,
      redis,
      redisStore: store,
      prefix,
      another: open,
      async close() {
        await dropPrefix(redis, prefix);
        redis.disconnect();
      },
    };
  }
  await requireService('mongodb');
  const mongo = await new MongoClient(process.env.MONGODB_URI!, { maxPoolSize: 20, serverSelectionTimeoutMS: 5000 }).connect();
  const collection = mongo.db('steadyfn_lease_test').collection(`leases_${run}`);
  const open = (): MongoLeaseStore => mongoLeaseStore({ collection, ...options, ...(name === 'mongodb-query' ? { reads: 'query' as const } : {}) });
  const store = open();
  await store.ensureIndexes();
  return {
    name,
    store,
    mongo,
    collection,
    mongoStore: store,
    prefix: '',
    another: open,
    async close() {
      await collection.drop().catch(() => undefined);
      await mongo.close();
    },
  };
}

/** Waits until `check` holds, polling; bounded, never a timing assertion. */
export async function eventually(check: () => Promise<boolean> | boolean, limitMs = 10_000, everyMs = 25): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

export const token = (): string => randomUUID();
export const key = (): string => `k:${randomUUID()}`;
