/**
 * Review (try-to-break) finding: a Redis source restarted in the MIDDLE of a snapshot run (not
 * between two runs), on a redis-server of this test's own with an append-only file (its keys
 * come back after the SIGKILL) and both S3 servers. ioredis reconnects by itself and the run
 * went on `SCAN`ning with the old server's cursor on the new one (a new hash seed: another
 * order), so keys were skipped: the run committed a backup that verified `full` and lacked
 * keys (a backup that looks complete and is not). The topology (`run_id`) was compared only
 * when a run began. Now the scan compares it again at its end: the run is refused with
 * `SourceChangedError`, the unfinished backup is removed, and the next run backs up every key.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisSource, snapshotBackup, verifyBackup } from '../src/index.js';
import { startRedis } from '../../../test/support/servers.js';
import { freshBucket, listAll, openUploads, S3_SERVERS } from './support.js';

const KEYS = 2000;

describe.each(S3_SERVERS)('a Redis source restarted mid-run, on $name', (server) => {
  it('never commits a backup missing keys: the run is refused with SourceChangedError, the next one is whole', async () => {
    const s3 = await freshBucket(server);
    const redisServer = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 20 });
    redis.on('error', () => undefined); // the restart drops the connection; it reconnects
    try {
      for (let i = 0; i < KEYS; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => redis.set(`k:${i + j}`, randomBytes(6 * 1024))));
      let restarted = false;
      let scans = 0;
      // The source's client as is, except that its 4th SCAN waits for the server to die and come back with the same keys.
      const source = new Proxy(redis, {
        get(target, property) {
          const value = Reflect.get(target, property, target) as unknown;
          if (property === 'callBuffer') {
            return async (...args: unknown[]) => {
              if (args[0] === 'SCAN' && ++scans === 4) {
                restarted = true;
                await redisServer.stop();
                await redisServer.start();
              }
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'restart' };
      const job = snapshotBackup({ source: redisSource({ client: source, pattern: 'k:*', scanCount: 100 }), target: storage, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024 });
      const first = await job.run().catch((e: unknown) => e as Error);
      expect(restarted).toBe(true);
      expect(await redis.dbsize()).toBe(KEYS);
      if (!(first instanceof Error)) {
        // Whatever it committed must hold every key.
        expect(first).toMatchObject({ status: 'complete', records: KEYS });
      } else {
        expect(first).toMatchObject({ name: 'SourceChangedError', code: 'BACKUP_SOURCE_CHANGED' });
        expect(await listAll(s3.client, s3.bucket, 'restart/jobs/snapshot/checkpoint.json')).toEqual([]);
        expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
        expect((await listAll(s3.client, s3.bucket, 'restart/backups/')).filter((k) => k.endsWith('manifest.json'))).toEqual([]);
        const next = await job.run();
        expect(next).toMatchObject({ status: 'complete', resumed: false, records: KEYS });
      }
      await expect(verifyBackup({ backup: { storage, id: 'latest' }, level: 'full' })).resolves.toMatchObject({ ok: true });
    } finally {
      redis.disconnect();
      await redisServer.dispose();
      await s3.drop();
    }
  }, 120_000);
});
