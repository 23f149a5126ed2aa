/**
 * Retention without `job` on a prefix shared by two jobs (a MongoDB and a Redis snapshot job),
 * on moto and gofakes3. Its policy counted every job's backups together: `keepLast: 1` deleted
 * the MongoDB job's only backup for the Redis job's newer one, and a later
 * `restore({ id: 'latest', job })` of it failed with `BackupNotFoundError`. It is now refused
 * (`ConfigurationError`, field `job`) before any delete — in a dry run too, in one run and in a
 * pass over a `backups/` too big for one run (the pass's first run met one job only) — and
 * retention once per job (`job`) keeps each job's own backups.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, applyRetention, mongoSource, mongoTarget, redisSource, restore, snapshotBackup, type RetentionReport } from '../src/index.js';
import { configError } from './offline-options.js';
import { closeMongo, freshBucket, freshDb, listAll, pagedRetention, redisClient, S3_SERVERS, unique, verifiedBackups } from './support.js';

const quits: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await closeMongo();
  for (const q of quits) await q();
});

const manifests = (keys: string[]) => keys.filter((k) => k.endsWith('/manifest.json')).sort();

describe.each(S3_SERVERS)('retention without job on a prefix shared by two jobs, on $name', (server) => {
  it('is refused before any delete (dry run too); retention per job keeps each job its backups', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('sharedsrc');
    const target = await freshDb('shareddst');
    const client = await redisClient();
    quits.push(() => client.quit());
    const p = unique('sharedjobs');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'shared' };
    try {
      await source.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      const [mongoId] = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: storage, job: 'orders' }), storage, 1);
      await client.set(`${p}:k`, 'v');
      const redisIds = await verifiedBackups(snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage, job: 'cache' }), storage, 2);
      const before = manifests(await listAll(s3.client, s3.bucket, 'shared/backups/'));
      expect(before).toHaveLength(3);

      for (const dryRun of [true, false]) {
        const error = await configError(() => applyRetention({ storage, keepLast: 1, dryRun }));
        expect(error.field).toBe('job');
        expect(error.message).toContain('2 jobs ("cache", "orders")');
        expect(error.message).toContain('once per job');
        expect(manifests(await listAll(s3.client, s3.bucket, 'shared/backups/'))).toEqual(before);
      }

      // The MongoDB job's only backup is still restorable.
      const restored = await restore({ backup: { storage, id: 'latest', job: 'orders' }, target: mongoTarget({ db: target }) });
      expect(restored.backupId).toBe(mongoId);
      expect(await target.collection('orders').countDocuments()).toBe(1);

      // Once per job: each keeps its own newest.
      expect((await applyRetention({ storage, keepLast: 1, job: 'orders' })).deleted).toEqual([]);
      const cache = await applyRetention({ storage, keepLast: 1, job: 'cache' });
      expect(cache.deleted).toEqual([redisIds[0]]);
      expect(manifests(await listAll(s3.client, s3.bucket, 'shared/backups/'))).toEqual(before.filter((k) => !k.includes(redisIds[0]!)));
    } finally {
      await client.del(`${p}:k`);
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('a pass over several runs is refused once it meets the second job, before any delete', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('sharedpass');
    const client = await redisClient();
    quits.push(() => client.quit());
    const p = unique('sharedpass');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      await source.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      // Three of the MongoDB job (the first page of 3 ids), then one of the Redis job (the second page).
      await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: storage, job: 'orders' }), storage, 3);
      await client.set(`${p}:k`, 'v');
      await verifiedBackups(snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage, job: 'cache' }), storage, 1);
      const before = manifests(await listAll(s3.client, s3.bucket, 'p/backups/'));

      // One page of backups/ per run (retention-pass.test.ts): the first run reads the MongoDB
      // job's page only and saves a pass; the next one meets the Redis job's backup.
      const paged = pagedRetention(storage);
      const run = (): Promise<RetentionReport> => paged.run({ keepLast: 1 });
      const first = await run();
      expect(first.backupsPass).toMatchObject({ phase: 'read' });
      let refused: unknown;
      for (let i = 0; i < 10 && refused === undefined; i++) {
        const outcome = await run().catch((e: unknown) => ({ error: e }));
        if ('error' in outcome) refused = outcome.error;
        else if (!outcome.backupsPass) break; // the pass ended without refusing
      }
      expect(refused).toBeInstanceOf(ConfigurationError);
      expect(refused).toMatchObject({ code: 'CONFIG_INVALID', field: 'job' });
      expect(manifests(await listAll(s3.client, s3.bucket, 'p/backups/'))).toEqual(before);
    } finally {
      await client.del(`${p}:k`);
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
