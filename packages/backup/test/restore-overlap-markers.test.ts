/**
 * Overlapping Redis key prefixes see each other's restores (src/restore/lock-places.ts
 * `overlappingPrefixes`, shared by the locks and the markers): `restoreStatus` of a prefix
 * reports a restore holding the lock of a prefix inside or around it, and a restore into a
 * prefix is refused (`RESTORE_TARGET_PARTIAL`, nothing written) while an overlapping prefix holds
 * an unfinished restore's marker. Own Redis server, moto S3. Before, `restoreStatus` of `a:`
 * said `complete` while a restore into `''` wrote, and a restore into `a:` went ahead over the
 * half-written restore into `''` (only an own-prefix marker was read). `restoreStatus` of `a:`
 * lists that unfinished restore (`overlapping`, `complete: false`); before, it said `complete`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RestoreTargetPartialError, StorageError, redisTarget, restore, restoreStatus } from '../src/index.js';
import { closeMongo, gatedClient } from './support.js';
import { redisBackupOf, withOwnRedis } from './support-restore.js';

afterAll(closeMongo);

describe('overlapping Redis key prefixes', () => {
  it('restoreStatus reports an overlapping prefix’s held lock; a restore is refused over an overlapping prefix’s unfinished restore', async () => {
    await withOwnRedis('ov', async ({ s3, redis, storage }) => {
      await redis.set('k:1', 'a');
      const a = await redisBackupOf(redis, storage);
      await redis.set('k:1', 'b');
      const b = await redisBackupOf(redis, storage);
      await redis.flushdb();

      // A restore into '' (every key) held in its apply: 'a:' is locked by it too.
      const gate = gatedClient(s3.client, 2);
      const held = restore({ backup: { storage: { ...storage, client: gate.client }, id: a }, target: redisTarget({ client: redis }), spoolBytes: 0 });
      held.catch(() => undefined);
      try {
        await gate.reached;
        const status = await restoreStatus(redisTarget({ client: redis, keyPrefix: 'a:' }));
        expect(status).toMatchObject({ complete: false, locked: { backupId: a, until: expect.any(String) } });
        expect(status.incomplete).toBeUndefined();
      } finally {
        gate.go();
      }
      expect((await held).records).toBe(1);
      await redis.flushdb();

      // A restore of A into '' fails half-way: its marker stays at ''.
      const failing = gatedClient(s3.client, 2, true);
      await expect(restore({ backup: { storage: { ...storage, client: failing.client }, id: a }, target: redisTarget({ client: redis }), spoolBytes: 0 })).rejects.toBeInstanceOf(StorageError);
      expect((await restoreStatus(redisTarget({ client: redis }))).incomplete?.backupId).toBe(a);
      // restoreStatus of 'a:' sees it too (brief bk item 3; before: `complete: true`).
      const inside = await restoreStatus(redisTarget({ client: redis, keyPrefix: 'a:' }));
      expect(inside).toMatchObject({ complete: false, overlapping: [{ marker: { backupId: a, kind: 'snapshot' }, where: expect.stringContaining('steadyfn:restore-marker:') }] });
      expect(inside.incomplete).toBeUndefined();
      expect(inside.locked).toBeUndefined();

      // B into 'a:' (empty itself) would write among A's half: refused, naming the marker at ''.
      const refused = await restore({ backup: { storage, id: b }, target: redisTarget({ client: redis, keyPrefix: 'a:' }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RestoreTargetPartialError);
      expect(refused).toMatchObject({ code: 'RESTORE_TARGET_PARTIAL', partial: { backupId: a } });
      expect((refused as Error).message).toContain('steadyfn:restore-marker:');
      expect((refused as Error).message).toContain('overlapping keyPrefix');
      expect(await redis.exists('a:k:1')).toBe(0);
      // A disjoint prefix is not concerned... none is disjoint from ''; merging is explicit.
      expect((await restore({ backup: { storage, id: b }, target: redisTarget({ client: redis, keyPrefix: 'a:' }), ifTargetNotEmpty: 'merge' })).records).toBe(1);

      // Completing A into '' clears its marker; then 'a:' restores as usual.
      expect((await restore({ backup: { storage, id: a }, target: redisTarget({ client: redis }), ifTargetNotEmpty: 'merge' })).records).toBe(1);
      await redis.del('a:k:1');
      expect((await restore({ backup: { storage, id: b }, target: redisTarget({ client: redis, keyPrefix: 'a:' }) })).records).toBe(1);
    });
  }, 120_000);
});
