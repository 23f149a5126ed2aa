/**
 * The throwaway Redis Cluster of test/support/servers.ts: each node keeps its own files, so a
 * node restarted from its AOF comes back with its own keys and nobody else's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisCluster, type OwnCluster } from './servers.js';

let cluster: OwnCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function dbsize(port: number): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  try {
    return await client.dbsize();
  } finally {
    client.disconnect();
  }
}

describe('startRedisCluster with AOF', () => {
  it('a node restarted from its AOF loads only its own writes (one directory per node)', async () => {
    cluster = await startRedisCluster(['--appendonly', 'yes', '--appendfsync', 'always']);
    const client = new Redis.Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    try {
      for (let i = 0; i < 60; i++) await client.set(`k${i}`, String(i));
    } finally {
      client.disconnect();
    }
    const before = await Promise.all(cluster.ports.map(dbsize));
    expect(before.reduce((a, b) => a + b, 0)).toBe(60);
    // Each node owns a share of the 60 keys; a shared appendonlydir would make the restarted
    // node load all 60 (every node's appends went to one incr file).
    expect(Math.max(...before)).toBeLessThan(60);
    const port = cluster.ports[0]!;
    await cluster.restart(port);
    expect(await dbsize(port)).toBe(before[0]);
  });
});
