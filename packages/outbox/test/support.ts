/**
 * Real servers for the outbox tests: Redis, the 3-master Redis Cluster, FerretDB and moto,
 * started by `bash test/services/services.sh start`. Every test file writes under its own
 * random prefix / database / queue names and removes them afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { requireService } from '../../../test/services/env.js';

export function runId(): string {
  return randomUUID().slice(0, 8);
}

export function clusterNodes(): Array<{ host: string; port: number }> {
  return (process.env.REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .filter(Boolean)
    .map((hp) => {
      const [host, port] = hp.split(':');
      return { host: host!, port: Number(port) };
    });
}

export interface RedisBackend {
  name: 'redis' | 'cluster';
  client: Redis | Cluster;
  prefix: string;
  /** Every key under `prefix` and the given extra patterns, removed. */
  close(extra?: string[]): Promise<void>;
}

export async function openRedis(name: 'redis' | 'cluster'): Promise<RedisBackend> {
  await requireService(name === 'redis' ? 'redis' : 'redis-cluster');
  const client = name === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
  const prefix = `obx-${runId()}:`;
  return {
    name,
    client,
    prefix,
    async close(extra = []) {
      const nodes = client instanceof Cluster ? client.nodes('master') : [client];
      for (const node of nodes) {
        for (const pattern of [`${prefix}*`, ...extra]) {
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
            cursor = next;
            for (const key of keys) await node.del(key);
          } while (cursor !== '0');
        }
      }
      client.disconnect();
    },
  };
}

export interface MongoBackend {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export async function openMongo(uri = process.env.MONGODB_URI): Promise<MongoBackend> {
  await requireService('mongodb');
  const client = new MongoClient(uri!, { maxPoolSize: 20, serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(`steadyfn_outbox_${runId()}`);
  return {
    client,
    db,
    async close() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
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
