/**
 * Closing a `redisCluster()` client while ioredis is between two reconnect attempts (status
 * `reconnecting`: every node went away, the cluster retry timer runs). `Cluster.disconnect()`
 * stops the timer and sets `disconnecting`, then resets its connection pool — already empty, so
 * no 'drain' comes to move it to `close`/`end` (ioredis 6.0.0, built/cluster/index.js `disconnect`).
 * Before, the Cluster stayed `disconnecting` for good and a command queued offline meanwhile never
 * settled. Now it ends (`end`, its 'end' event) and such a command is rejected.
 *
 * A redis-server of this file's own in cluster mode (one master holding every slot), stopped and
 * started here; the shared cluster is never touched.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { eventually } from '../../../test/support/wait.js';

const own = useOwnRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', `nodes-${randomUUID()}.conf`], afterEachTest: closeAll });

async function clusterOk(): Promise<void> {
  await own.admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383').catch(() => undefined); // already held after a restart
  await eventually(async () => String(await own.admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 10_000, 50);
}

it('handle.close() of a Cluster that is reconnecting ends it: status end, its queued command rejected', async () => {
  await clusterOk();
  const port = Number(new URL(own.url).port);
  // A long retry delay holds the Cluster in `reconnecting` (the profile's gives up within a second).
  const handle = redisCluster({ nodes: [{ host: '127.0.0.1', port }], name: `cluster-close-reconnecting-${randomUUID().slice(0, 6)}`, options: { clusterRetryStrategy: () => 60_000, enableOfflineQueue: true } });
  const client = await handle.get({ signal: AbortSignal.timeout(5_000) });
  const ended = new Promise<void>((resolve) => client.once('end', resolve));
  try {
    await own.server.stop();
    await eventually(() => client.status === 'reconnecting', 5_000, 10);
    const queued = client.get('k').then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await handle.close();
    // Before: 'disconnecting', and the GET never settled.
    expect(client.status).toBe('end');
    await ended;
    expect(await queued).toBe('Connection is closed.');
  } finally {
    await own.server.start();
  }
}, 30_000);
