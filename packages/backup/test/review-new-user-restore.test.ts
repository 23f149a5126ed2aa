/**
 * New-user trial findings on `restore`:
 * - L2: `id: 'latest'` without `backup.job` on a prefix shared by two jobs picked the newest
 *   backup of either; it is now refused (`ConfigurationError` on `backup.job`, as retention
 *   without `job` is), by `restore` and `verifyBackup` alike; with the job it restores.
 * - L3: a MongoDB backup restored into a Redis target holding keys was refused as "not empty"
 *   (`RestoreTargetNotEmptyError`), hiding that it can never be restored there; the kind is
 *   checked first (`RestoreUnsupportedError`), nothing written.
 * - L4: a restore whose temporary directory cannot be used read the backup twice without a
 *   word; the report (and the log) now carries a warning naming no path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, RestoreUnsupportedError, mongoSource, mongoTarget, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { Redis } from 'ioredis';
import { startRedis } from '../../../test/support/servers.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

const quits: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await closeMongo();
  for (const q of quits) await q();
});

describe('restore: new-user findings', () => {
  it("L2: 'latest' without a job on a prefix of two jobs is refused; with the job it restores", async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('l2src');
    const target = await freshDb('l2dst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'shared' };
      await source.collection<{ _id: number }>('a').insertOne({ _id: 1 });
      await source.collection<{ _id: number }>('b').insertOne({ _id: 2 });
      const a = await snapshotBackup({ source: mongoSource({ db: source, collections: ['a'] }), target: storage, job: 'a' }).run();
      const b = await snapshotBackup({ source: mongoSource({ db: source, collections: ['b'] }), target: storage, job: 'b' }).run();
      if (a.status !== 'complete' || b.status !== 'complete') throw new Error('snapshots did not complete');
      for (const run of [
        () => restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) }),
        () => verifyBackup({ backup: { storage, id: 'latest' }, level: 'quick' }),
      ]) {
        const error: unknown = await run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).field).toBe('backup.job');
        expect((error as Error).message).toContain('"a"');
        expect((error as Error).message).toContain('"b"');
      }
      expect(await target.listCollections().toArray()).toEqual([]);
      const report = await restore({ backup: { storage, id: 'latest', job: 'a' }, target: mongoTarget({ db: target }) });
      expect(report.backupId).toBe(a.backupId);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });

  it('L3: a MongoDB backup into a Redis target holding keys is refused for its kind, not as not empty', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('l3src');
    // An own server: a restore without a prefix is refused while any restore on the server holds
    // its lock (every prefix overlaps ''), so on the shared server another file's restore running
    // meanwhile answered RESTORE_TARGET_BUSY before the kind was checked.
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    quits.push(async () => redis.disconnect(), () => server.stop());
    const held = unique('l3held');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'kind' };
      await source.collection<{ _id: number }>('a').insertOne({ _id: 1 });
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      await redis.set(held, 'x');
      const error: unknown = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreUnsupportedError);
      expect((error as Error).message).toContain('is a mongodb backup; this target is Redis');
    } finally {
      await redis.del(held);
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  });

  it('L4: a temporary directory that cannot be used is said in the warnings (no path), the backup read twice', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('l4src');
    const target = await freshDb('l4dst');
    const before = process.env.TMPDIR;
    const logged: unknown[] = [];
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'spool' };
      await source.collection<{ _id: number }>('a').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const missing = `/nonexistent-${unique('tmp')}`;
      process.env.TMPDIR = missing;
      const log = { debug() {}, error() {}, info: (...args: unknown[]) => void logged.push(args), warn: (...args: unknown[]) => void logged.push(args) };
      const report = await restore({ backup: { storage, id: done.backupId }, target: mongoTarget({ db: target }) }, { log });
      expect(report.reads).toBe(2);
      expect(report.records).toBe(20);
      const warning = report.warnings.find((w) => w.includes('temporary file'));
      expect(warning).toBeDefined();
      expect(warning).not.toContain(missing);
      // The log says it by numbers (a warning's text can name user data, so it stays in the report): read twice, one warning.
      expect(logged).toContainEqual(['restore complete', expect.objectContaining({ reads: 2, records: 20 })]);
      expect(logged).toContainEqual(['restore warnings', expect.objectContaining({ warnings: report.warnings.length })]);
      expect(JSON.stringify(logged)).not.toContain(missing);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
