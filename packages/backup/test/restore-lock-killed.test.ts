/**
 * A restore SIGKILLed in its apply (a real child process, test/child/restore-child.ts): one of
 * the backup's two collections written, the other not. Its partial-restore marker stays in the
 * target; its lock stays until `lockMs` runs out (a restore meanwhile is refused), then frees
 * itself; the next restore reports the unfinished one in its warnings, completes, and clears
 * the marker. FerretDB (:27117), both S3 servers.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { RestoreTargetBusyError, mongoSource, mongoTarget, restore, restoreStatus, snapshotBackup } from '../src/index.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, freshBucket, freshDb, mongoClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a restore killed mid-apply, on $name', (server) => {
  it('leaves its marker; its lock runs out; the next restore warns, completes and clears it', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('killsrc');
    const targetName = unique('killdst').replace(/[^a-z0-9_]/g, '_').slice(0, 60);
    const target = (await mongoClient()).db(targetName);
    const { file, dir } = bundleChild(new URL('./child/restore-child.ts', import.meta.url).href);
    try {
      await source.collection<{ _id: number }>('a').insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i })));
      await source.collection<{ _id: number }>('b').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: { client: s3.client, bucket: s3.bucket, prefix: 'kl' } }).run();
      if (done.status !== 'complete') throw new Error('backup did not complete');
      // Reads: the check's (a, b), then the apply's (a, b): killed at the apply's read of b.
      const env = { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_PREFIX: 'kl', CHILD_DB: targetName, SPOOL_BYTES: '0', LOCK_MS: '6000' };
      const killed = await runChild(file, { ...env, PAUSE: '1', PAUSE_GET: '4' }, /waiting/);
      expect(killed.killed).toBe(true);
      expect(await target.collection('a').countDocuments()).toBe(30);
      expect(await target.collection('b').countDocuments()).toBe(0);

      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'kl' };
      const status = await restoreStatus(mongoTarget({ db: target }));
      // Still within its lease (renewed every 2 s until the kill, so at least 4 s were left): refused, naming it.
      expect(status).toMatchObject({ complete: false, incomplete: { backupId: done.backupId }, locked: { backupId: done.backupId } });
      const busy = await restore({ backup: { storage, id: done.backupId }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(RestoreTargetBusyError);
      expect((busy as RestoreTargetBusyError).heldFor).toBe(done.backupId);
      // The dead restore's lock runs out by itself (6 s, by the server's clock).
      for (let i = 0; (await restoreStatus(mongoTarget({ db: target }))).locked && i < 120; i++) await delay(250);
      const freed = await restoreStatus(mongoTarget({ db: target }));
      expect(freed.locked).toBeUndefined();
      expect(freed.incomplete?.backupId).toBe(done.backupId);

      const next = await restore({ backup: { storage, id: done.backupId }, target: mongoTarget({ db: target }) });
      expect(next.warnings).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`previous restore into this target \\(backup ${done.backupId}, started .*\\) did not finish`))]));
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
      expect(await target.collection('a').countDocuments()).toBe(30);
      expect(await target.collection('b').countDocuments()).toBe(20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
