/**
 * The real stores the lease tests run on — Redis, the 3-master Redis Cluster and FerretDB from
 * `bash test/services/services.sh start` — plus the memory store. Each opening writes under
 * its own prefix or collection and removes it when closed.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import { requireService } from '../../../../test/services/env.js';
import { clusterNodes, dropPrefix } from '../../../../test/support/redis.js';
import { eventually } from '../../../../test/support/wait.js';
import { memoryLeaseStore, mongoLeaseStore, redisLeaseStore, type LeaseStore, type MongoLeaseStore, type RedisLeaseStore } from '../../src/index.js';

export { clusterNodes, dropPrefix, eventually };

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


export const token = (): string => randomUUID();
export const key = (): string => `k:${randomUUID()}`;
