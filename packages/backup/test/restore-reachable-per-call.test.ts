/**
 * `redisTarget`'s `connectTimeoutMs` bounds every restore call, not only the first of a client
 * (src/restore/redis.ts `pingWithin`, asked before each call's first lock read). A warm function
 * keeps one default ioredis client (reconnects and queues forever) and one target; the test's own
 * Redis server is stopped between two calls. Before, the client had answered once and was never
 * pinged again: the second call waited on ioredis' retries (over 10 s) instead of the bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RestoreTargetUnavailableError, redisTarget, restore, restoreStatus } from '../src/index.js';
import { closeMongo } from './support.js';
import { redisBackupOf, withOwnRedis } from './support-restore.js';

afterAll(closeMongo);

describe('redisTarget connectTimeoutMs, per call', () => {
  it('a target kept across calls meets an outage after its first call bounded: restore and restoreStatus fail within connectTimeoutMs', async () => {
    await withOwnRedis('rc', async ({ server, redis, storage }) => {
      await redis.set('k:1', 'a');
      const backupId = await redisBackupOf(redis, storage);
      // The warm function's own client: ioredis defaults (reconnect forever, queue commands).
      const kept = new Redis(server.url);
      kept.on('error', () => undefined);
      try {
        const target = redisTarget({ client: kept, keyPrefix: 'w:', connectTimeoutMs: 500 });
        expect((await restore({ backup: { storage, id: backupId }, target })).records).toBe(1);
        expect(await restoreStatus(target)).toEqual({ complete: true });

        await server.stop();
        for (const call of [() => restoreStatus(target), () => restore({ backup: { storage, id: backupId }, target, ifTargetNotEmpty: 'merge' })]) {
          const started = Date.now();
          const error = await call().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(RestoreTargetUnavailableError);
          expect(error).toMatchObject({ code: 'RESTORE_TARGET_UNAVAILABLE' });
          expect(Date.now() - started).toBeLessThan(3_000);
        }
      } finally {
        kept.disconnect();
      }
    });
  }, 90_000);
});
