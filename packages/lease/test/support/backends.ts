/**
 * The real stores the lease tests run on — Redis, the 3-master Redis Cluster, FerretDB, moto
 * and gofakes3 from `bash test/services/services.sh start` — plus the memory store. Each opening writes under
 * its own prefix or collection and removes it when closed.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { requireService } from '../../../../test/services/env.js';
import { clusterNodes, dropPrefix } from '../../../../test/support/redis.js';
import { eventually } from '../../../../test/support/wait.js';
import { useOpened } from '../../../../test/support/hooks.js';
import { memoryLeaseStore, mongoLeaseStore, redisLeaseStore, type LeaseStore, type MongoLeaseStore, type RedisLeaseStore } from '../../src/index.js';
import { s3LeaseStore, type S3LeaseStore } from '../../src/s3.js';

export { clusterNodes, dropPrefix, eventually };

/**
 * `mongodb` reads as the store chooses for the server (by `_id` on FerretDB); `mongodb-query`
 * always by query. `s3` is moto, `s3-alt` gofakes3: two S3 servers with conditional writes.
 */
export type BackendName = 'memory' | 'redis' | 'cluster' | 'mongodb' | 'mongodb-query' | 's3' | 's3-alt';
export const REAL_BACKENDS: BackendName[] = ['redis', 'cluster', 'mongodb', 'mongodb-query', 's3', 's3-alt'];
export const ALL_BACKENDS: BackendName[] = ['memory', ...REAL_BACKENDS];

export interface Backend {
  name: BackendName;
  store: LeaseStore;
  redis?: Redis | Cluster;
  redisStore?: RedisLeaseStore;
  mongo?: MongoClient;
  collection?: Collection;
  mongoStore?: MongoLeaseStore;
  s3?: { client: S3Client; bucket: string };
  s3Store?: S3LeaseStore;
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
  if (name === 's3' || name === 's3-alt') {
    await requireService(name);
    const client = s3Client(process.env[name === 's3' ? 'S3_ENDPOINT' : 'S3_ALT_ENDPOINT']!);
    const bucket = `lease-test-${run}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const open = (): S3LeaseStore => s3LeaseStore({ client, bucket, prefix: 'leases/' });
    const store = open();
    return {
      name,
      store,
      s3: { client, bucket },
      s3Store: store,
      prefix: 'leases/',
      another: open,
      async close() {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
        for (const o of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
        await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
        client.destroy();
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

/** One backend (`openBackend`) for the enclosing `describe` or file: see `useOpened`. */
export const useBackend = (name: BackendName): Backend => useOpened(() => openBackend(name));

/** An S3 client for a local server (path-style, test credentials, checksums only when required); `extra` adds options (e.g. `maxAttempts`). */
export function s3Client(endpoint: string, extra: S3ClientConfig = {}): S3Client {
  return new S3Client({
    ...extra,
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export const token = (): string => randomUUID();
export const key = (): string => `k:${randomUUID()}`;
