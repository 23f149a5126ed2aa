/**
 * Redis helpers the tests of every package share: the cluster's nodes from the services'
 * environment, and removal of one test's keys (never FLUSHALL: the servers are shared).
 */
import { Cluster, type Redis } from 'ioredis';

/** `REDIS_CLUSTER_NODES` (`host:port,…`, written by `test/services/services.sh`) as ioredis takes it. */
export function clusterNodes(list = process.env.REDIS_CLUSTER_NODES ?? ''): Array<{ host: string; port: number }> {
  return list
    .split(',')
    .filter(Boolean)
    .map((hp) => {
      const [host, port] = hp.split(':');
      return { host: host!, port: Number(port) };
    });
}

/** Deletes every key matching `${prefix}*` (and each extra pattern) on each master. */
export async function dropPrefix(redis: Redis | Cluster, prefix: string, extra: ReadonlyArray<string> = []): Promise<void> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    for (const pattern of [`${prefix}*`, ...extra]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await Promise.all(keys.map((k) => node.del(k)));
      } while (cursor !== '0');
    }
  }
}
