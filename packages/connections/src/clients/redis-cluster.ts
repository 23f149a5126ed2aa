/**
 * `redisCluster()`: an ioredis Cluster client with the serverless profile. The thaw check
 * pings every master at once (one round trip of wall time): after a freeze any of the
 * per-node sockets may be the dead one.
 */
import type { Cluster, ClusterNode, ClusterOptions } from 'ioredis';
import type { Provider } from '@steadyfn/handler';
import { defineClient, type BudgetReading, type ClientHandle } from '../handle.js';
import { profileFor } from '../profiles.js';
import { commandView } from '../view.js';
import { handleOptions, parseRedisClientsInfo, type HandleOptions } from './options.js';
import { closeRedis, connectRedis } from './redis.js';

export interface RedisClusterClientOptions extends HandleOptions {
  /** Startup nodes; default `process.env.REDIS_CLUSTER_NODES` (`host:port,host:port`). */
  nodes?: ClusterNode[];
  /** ioredis Cluster options; each one overrides the platform profile (`redisOptions` merged key by key). */
  options?: ClusterOptions;
  provider?: Provider;
}

export interface RedisClusterHandle extends ClientHandle<Cluster> {
  contextValue(client: Cluster): Cluster;
}

function nodesFromEnv(): ClusterNode[] {
  const raw = process.env.REDIS_CLUSTER_NODES ?? '';
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hostPort) => {
      const at = hostPort.lastIndexOf(':');
      return at < 0 ? { host: hostPort, port: 6379 } : { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) };
    });
}

export function redisCluster(options: RedisClusterClientOptions = {}): RedisClusterHandle {
  const nodes = options.nodes ?? nodesFromEnv();
  const { enableOfflineQueue, retryStrategy, ...perNode } = profileFor(options.provider).redis;
  const settings: ClusterOptions = {
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    slotsRefreshTimeout: 2_000,
    ...options.options,
    redisOptions: { ...perNode, ...options.options?.redisOptions },
    lazyConnect: true,
  };
  let view: Cluster | undefined;
  const handle = defineClient<Cluster>({
    ...handleOptions(options, 'redisCluster'),
    async create() {
      if (nodes.length === 0) throw new Error('no cluster nodes: pass `nodes` or set REDIS_CLUSTER_NODES');
      const { Cluster } = await import('ioredis');
      return connectRedis(new Cluster(nodes, settings));
    },
    ping: (client) => Promise.all(client.nodes('master').map((node) => node.ping())),
    isReady: (client) => client.status === 'ready',
    close: closeRedis,
    // The fullest master decides: that is where new connections would be refused first.
    readBudget: async (client) => {
      const readings = await Promise.all(client.nodes('master').map(async (node) => parseRedisClientsInfo(await node.info('clients'))));
      let worst: BudgetReading | undefined;
      for (const r of readings) if (r && (!worst || r.used / r.limit > worst.used / worst.limit)) worst = r;
      return worst;
    },
  });
  return Object.assign(handle, {
    contextValue: (client: Cluster) => (view ??= commandView(handle, client)),
  });
}
