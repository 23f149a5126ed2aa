/**
 * The restore lock and marker on the real Redis Cluster: the lock key and the marker key hash to
 * their own slots; claim, renew, marker write/compare-and-delete (EVAL) and release each touch one
 * key, so they run on Cluster (no CROSSSLOT).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { RestoreTargetBusyError, redisTarget, restoreStatus } from '../src/index.js';
import { TargetLock } from '../src/restore/lock.js';
import { redisRestoreKeys } from '../src/restore/lock-places.js';
import { redisCluster, unique } from './support.js';

describe('the restore lock on Redis Cluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await redisCluster();
  });
  afterAll(() => cluster.disconnect());

  it('takes the lock and writes the marker, refuses a second claim, then releases and clears them', async () => {
    const keyPrefix = `${unique('clusterlock')}:`;
    const keys = redisRestoreKeys(keyPrefix);
    try {
      const lock = new TargetLock(redisTarget({ client: cluster, keyPrefix }), 60_000);
      await lock.take('held-backup');
      expect(await cluster.exists(keys.lock)).toBe(1);
      expect(await cluster.exists(keys.marker)).toBe(1);
      expect(await restoreStatus(redisTarget({ client: cluster, keyPrefix }))).toMatchObject({ complete: false, incomplete: { backupId: 'held-backup' }, locked: { backupId: 'held-backup' } });
      const busy = await new TargetLock(redisTarget({ client: cluster, keyPrefix }), 60_000).take('second-backup').catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(RestoreTargetBusyError);
      await lock.end(true);
      expect(await restoreStatus(redisTarget({ client: cluster, keyPrefix }))).toEqual({ complete: true });
      expect(await cluster.exists(keys.marker)).toBe(0);
    } finally {
      await cluster.del(keys.lock);
      await cluster.del(keys.marker);
    }
  }, 60_000);
});
