/**
 * `redisCluster()`: an ioredis Cluster client with the serverless profile. The thaw check
 * pings every master and every connected replica at once (one round trip of wall time): after a
 * freeze any of the per-node sockets may be the dead one.
 */
import type { Cluster, ClusterNode, ClusterOptions } from 'ioredis';
import type { Provider } from '@steadyfn/handler';
import { ConfigurationError, keysOf } from '@steadyfn/handler/internal';
import { makeHandle } from '../handle.js';
import { profileFor } from '../profiles.js';
import type { BudgetReading, ClientHandle } from '../spec.js';
import { commandView } from '../view.js';
import { factoryOptions, HANDLE_KEYS, handleOptions, parseRedisClientsInfo, type HandleOptions } from './options.js';
import { closeRedis, connectRedis, loadIoredis, withoutCredentials } from './redis.js';
import { authRefused } from './auth-refused.js';
import { useDriver } from './load.js';
import { connectCluster } from './cluster-connect.js';
import { clusterNotReadyUnsent, failLostReplies } from './cluster-replies.js';
import { waitForConnectingMasters } from './cluster-connecting.js';
import { followMovedThroughNatMap } from './cluster-nat-moved.js';
import { wasNotSent } from '../errors.js';
import { nodesRedisOptions } from './cluster-nodes.js';
import { clusterBlockedForMs, clusterStuckAtCutOff, noteBlockingWrites, pingedNodes } from './redis-queue.js';

/** Options of `redisCluster()`. */
export interface RedisClusterClientOptions extends HandleOptions {
  /**
   * Startup nodes: `{ host, port }` objects, `"host:port"` strings, `redis://` or `rediss://` URLs
   * or ports (1 to 65535). A URL's user name and password are used for every node of the Cluster
   * (also those found through `CLUSTER SLOTS`), unless `options.redisOptions` sets `username` or
   * `password`; `rediss://` URLs turn TLS on for every node (`redisOptions.tls = {}`) unless
   * `options.redisOptions.tls` is given. A `ConfigurationError` (`CONFIG_INVALID`) when
   * `redisCluster()` is called: field `nodes.<i>` for a node that cannot be an address, a URL with
   * another scheme, or credentials that are not percent-encoded (`%` must be written `%25`); field
   * `nodes` for URLs that name different credentials, or mix `redis://` and `rediss://`.
   * @default process.env.REDIS_CLUSTER_NODES ("host:port,host:port")
   */
  nodes?: ClusterNode[] | undefined;
  /** ioredis Cluster options; each one overrides the platform profile (`redisOptions` merged key by key). `lazyConnect` is always on. */
  options?: ClusterOptions | undefined;
  /**
   * Profile to use instead of the detected platform's.
   * @default detectPlatform()
   */
  provider?: Provider | undefined;
}

/** A handle on an ioredis Cluster client. */
export interface RedisClusterHandle extends ClientHandle<Cluster> {
  /** What the plugin puts on ctx: the Cluster, whose read-only commands are repeated once after a connection error. */
  contextValue(client: Cluster): Cluster;
}

/** `REDIS_CLUSTER_NODES` as nodes. @throws ConfigurationError when it is empty or an entry is not `host:port` with a port from 1 to 65535. */
export function nodesFromEnv(raw: string): ClusterNode[] {
  const nodes = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hostPort) => {
      const at = hostPort.lastIndexOf(':');
      const port = at < 0 ? 6379 : Number(hostPort.slice(at + 1));
      const host = at < 0 ? hostPort : hostPort.slice(0, at);
      if (host === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
        throw new ConfigurationError(`redisCluster(): REDIS_CLUSTER_NODES must list host:port pairs (a host, and a port from 1 to 65535); got ${JSON.stringify(hostPort)}`, {
          field: 'nodes',
          expected: 'host:port,host:port',
        });
      }
      return { host, port };
    });
  if (nodes.length === 0) {
    throw new ConfigurationError('redisCluster(): no cluster nodes: pass option "nodes" or set REDIS_CLUSTER_NODES (host:port,host:port)', {
      field: 'nodes',
      expected: 'a non-empty array of { host, port }',
    });
  }
  return nodes;
}

// Unknown keys are refused; `options` is the driver's and is not looked into.
const CLUSTER_KEYS = keysOf<RedisClusterClientOptions>({ ...HANDLE_KEYS, nodes: true, options: true, provider: true });

/**
 * A cached ioredis Cluster client (the `ioredis` package must be installed).
 *
 * A command written to a node connection that closes before its reply comes (a `CLIENT KILL`, a
 * node restart) is rejected at once with `ReplyLostError` — the server may have applied it —
 * instead of being sent again by ioredis' failover retry (`retryDelayOnFailover`), which plain
 * ioredis does: on ctx a write then fails with `CONNECTION_LOST`, a read is sent once more.
 * Commands not yet written when their node connection failed are still retried by ioredis; one
 * that then meets "Cluster isn't ready" (or "Cluster is ended.": the function quit the Cluster
 * meanwhile) was never sent, so the handle repeats even a write once (after rebuilding the
 * client: `CONNECTION_UNAVAILABLE` when the Cluster is still unreachable). A command for a master
 * whose node connection is still connecting waits for that connection to be ready (bounded by
 * `ctx.signal` and the node's `connectTimeout`) instead of spending its 16 redirections on
 * refusals 100 ms apart (clients/cluster-connecting.ts). With `options.natMap` (object or
 * function), a MOVED reply is followed to the node it names, through its mapped address: plain
 * ioredis stores the unmapped address, then sends the command to random masters until one is
 * right or its 16 redirections are spent (redis/ioredis#1582; clients/cluster-nat-moved.ts).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid option; at first use (terminal, as the invocation's error) when
 *   `nodes` is not given and `REDIS_CLUSTER_NODES` is empty or malformed, or a startup node is a standalone Redis
 *   (`cluster support disabled`).
 * @example
 * const cluster = redisCluster({ nodes: [{ host: '10.0.0.1', port: 6379 }], options: { scaleReads: 'slave' } });
 */
export function redisCluster(options?: RedisClusterClientOptions): RedisClusterHandle {
  const o = factoryOptions('redisCluster', options, CLUSTER_KEYS);
  if (o.nodes !== undefined && (!Array.isArray(o.nodes) || o.nodes.length === 0)) {
    throw new ConfigurationError('redisCluster(): option "nodes" must be a non-empty array of { host, port }', { field: 'nodes', expected: 'a non-empty array of { host, port }' });
  }
  // A node that cannot be an address is a deploy's to fix: terminal now, not a retryable failure at every connect.
  // Its URL's credentials and TLS apply to every node, not only to the startup one (see cluster-nodes.ts).
  const fromNodes = o.nodes === undefined ? {} : nodesRedisOptions(o.nodes, o.options?.redisOptions);
  const { enableOfflineQueue, retryStrategy, ...perNode } = profileFor(o.provider).redis;
  const settings: ClusterOptions = {
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    slotsRefreshTimeout: 2_000,
    ...o.options,
    redisOptions: { ...perNode, ...fromNodes, ...o.options?.redisOptions },
    lazyConnect: true,
  };
  const inOptions = o.options?.redisOptions?.password !== undefined || o.options?.redisOptions?.username !== undefined;
  const authField = inOptions ? 'options.redisOptions.password' : 'nodes';
  const driver = loadIoredis();
  let view: Cluster | undefined;
  const handle = makeHandle<Cluster>(
    {
      ...handleOptions(o, 'redisCluster'),
      async create({ signal }) {
        const nodes = o.nodes ?? nodesFromEnv(process.env.REDIS_CLUSTER_NODES ?? '');
        const { Cluster } = await useDriver('redisCluster', 'ioredis', driver);
        const cluster = new Cluster(nodes, settings);
        // A command written on a node connection that then closed is rejected, not resent by ioredis' failover retry.
        failLostReplies(cluster);
        // A command for a master whose connection is still connecting waits for it instead of spending its redirections.
        waitForConnectingMasters(cluster);
        // With natMap, a MOVED reply's node is found in the pool, not replaced by a random master (ioredis#1582).
        followMovedThroughNatMap(cluster);
        // When each node connection wrote its blocking commands: how long a thaw check's ping may wait behind them.
        cluster.on('+node', noteBlockingWrites);
        // Not cluster.connect(): it stays pending when a master is down (see connectCluster).
        return connectRedis(cluster, signal, () => connectCluster(cluster), { owner: 'redisCluster', field: authField });
      },
      // "Cluster isn't ready" and "Cluster is ended." follow only commands never written here (see clusterNotReadyUnsent): a write may be repeated.
      wasNotSent: (err) => wasNotSent(err) || clusterNotReadyUnsent(err),
      // A connected replica too: with scaleReads its socket may be the dead one a cut-off found stuck.
      ping: (client) => Promise.all(pingedNodes(client).map((node) => node.ping())),
      isReady: (client) => client.status === 'ready',
      close: closeRedis,
      // The fullest master decides: that is where new connections would be refused first.
      readBudget: async (client) => {
        const readings = await Promise.all(client.nodes('master').map(async (node) => parseRedisClientsInfo(await node.info('clients'))));
        let worst: BudgetReading | undefined;
        for (const r of readings) if (r && (!worst || r.used / r.limit > worst.used / worst.limit)) worst = r;
        return worst;
      },
    },
    'redisCluster',
    // At a cut-off, checked only when a node connection's oldest command in flight is non-blocking and still unanswered at the next use.
    {
      stuck: clusterStuckAtCutOff,
      pingGraceMs: clusterBlockedForMs,
      // A node that refuses a command for want of credentials (NOAUTH, WRONGPASS): terminal CONNECTION_AUTH_FAILED, not a raw ReplyError.
      operationError: (err) => {
        const refused = authRefused('redisCluster', authField, err);
        if (refused !== undefined) withoutCredentials(err);
        return refused;
      },
    },
  );
  return Object.assign(handle, {
    contextValue: (client: Cluster) => (view ??= commandView(handle, client)),
  });
}
