/**
 * How a new ioredis Cluster's connect ends. ioredis 6 settles `Cluster#connect()` only for its
 * first attempt up to reading the slot map (CLUSTER SLOTS): when no startup node answers it
 * rejects, but when the attempt fails after that — its ready check (`enableReadyCheck`: CLUSTER
 * INFO on a random node) finds `cluster_state:fail` or cannot reach that node, i.e. a master is
 * down — it closes the Cluster and reconnects by `clusterRetryStrategy`, and every reconnect is a
 * new `connect()` call whose outcome the first never gets. The first stays pending even after the
 * strategy gives up (status `end`), so a cold connect with a master down waited out
 * `connectTimeoutMs` (10 s) or the invocation's deadline. Here the attempt ends at the Cluster's
 * own `ready` (an internal reconnect got through: a random ready check that hit the dead master
 * before the others marked it failed) or `end` (the strategy gave up: with the profile's
 * `boundedRetryStrategy` after 4 reconnects, 50 + 100 + 200 + 400 ms of waits).
 *
 * The ready check asks ONE random master. When that master is down but the others still report
 * `cluster_state:ok` (they have not marked it failed yet), its error says nothing about the
 * cluster, yet ioredis counts it as a failed attempt: a third of the attempts with one of three
 * masters down, so 1 cold connect in ~250 failed all five and was a 503 on a cluster that served
 * every other master's keys. `askAnotherNode` repeats the check's random pick after such an
 * error (once the unreachable node's connection has ended the pool no longer offers it), up to
 * `READY_CHECK_TRIES` picks per attempt; a reply, `ok` or `fail`, decides at once as before.
 */
import type { Cluster } from 'ioredis';
import { ConfigurationError, errorName } from '@steadyfn/handler/internal';

/**
 * The cause of a Cluster connect that ended without the Cluster becoming ready: every attempt
 * (the first and each `clusterRetryStrategy` reconnect) failed its ready check. `cause` is the last
 * error a node reported (e.g. `ECONNREFUSED` from the master that is down), when there was one.
 */
export class ClusterNotReadyError extends Error {
  override readonly name = 'ClusterNotReadyError';
  constructor(cause: unknown) {
    super('Redis Cluster did not become ready: its ready check (CLUSTER INFO) failed or reported cluster_state:fail until clusterRetryStrategy gave up', cause === undefined ? undefined : { cause });
  }
}

/**
 * Connects `cluster`: resolves when it is ready (after its first attempt or a reconnect), rejects
 * as `connect()` does (no startup node answered) or with `ClusterNotReadyError` when it ends
 * without becoming ready.
 */
export function connectCluster(cluster: Cluster): Promise<void> {
  askAnotherNode(cluster);
  return new Promise<void>((resolve, reject) => {
    let nodeError: unknown;
    const onNodeError = (err: unknown): void => void (nodeError = err);
    const onReady = (): void => done(resolve);
    const onEnd = (): void => done(() => reject(new ClusterNotReadyError(nodeError)));
    function done(settle: () => void): void {
      cluster.off('node error', onNodeError);
      cluster.off('ready', onReady);
      cluster.off('end', onEnd);
      settle();
    }
    cluster.on('node error', onNodeError);
    cluster.once('ready', onReady);
    cluster.once('end', onEnd);
    cluster.connect().then(
      () => done(resolve),
      (err: unknown) => done(() => reject(standaloneServer(nodeError) ?? (err as Error))),
    );
  });
}

/** How many nodes one attempt's ready check asks at most before the attempt fails (an error from each). */
const READY_CHECK_TRIES = 3;

type ReadyCheck = (callback: (err?: Error | null, state?: string) => void) => void;

/**
 * Makes `cluster`'s ready check (ioredis' private `readyCheck`: CLUSTER INFO on a random node)
 * ask another node when the one it picked answered with an error (unreachable) instead of a
 * state, up to `READY_CHECK_TRIES` nodes. A Cluster without that method is left as it is.
 */
function askAnotherNode(cluster: Cluster): void {
  const target = cluster as unknown as { readyCheck?: ReadyCheck };
  const readyCheck = target.readyCheck;
  if (typeof readyCheck !== 'function') return;
  target.readyCheck = function (this: Cluster, callback) {
    let tries = 0;
    const ask = (): void =>
      readyCheck.call(this, (err, state) => {
        // Only while the attempt is still on (a disconnect meanwhile ends it as before).
        if (err && ++tries < READY_CHECK_TRIES && this.status === 'connect') ask();
        else callback(err, state);
      });
    ask();
  };
}

/**
 * A startup node that answered CLUSTER SLOTS with `ERR This instance has cluster support
 * disabled` is a standalone Redis: no retry can fix that, so it is a terminal configuration
 * error (with the server's reply, which carries no values) instead of a retryable outage.
 */
function standaloneServer(nodeError: unknown): ConfigurationError | undefined {
  if (!(nodeError instanceof Error) || errorName(nodeError as unknown as Record<string, unknown>) !== 'ReplyError') return undefined;
  if (!/cluster support disabled/i.test(nodeError.message)) return undefined;
  return new ConfigurationError(`redisCluster(): a startup node is not a Redis Cluster node (CLUSTER SLOTS: ${nodeError.message.slice(0, 120)}); use redis() for a standalone server`, {
    field: 'nodes',
    expected: 'nodes of a Redis Cluster (cluster-enabled yes)',
    cause: nodeError,
  });
}
