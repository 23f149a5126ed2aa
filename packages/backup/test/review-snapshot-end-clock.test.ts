/**
 * Attack: a snapshot runner whose clock is 10 minutes BEHIND (S3's clock and the test's are the
 * real one), on both S3 emulators (FerretDB as the source). The clock is injected as the
 * process sees it — `Date.now()` and `new Date()` both (fake `Date` only, advancing with real
 * time; timers stay real).
 * - The manifest's end time must not be earlier than S3's clock when the backup's data was
 *   complete: not before the real time the run started, to S3's 1-second resolution.
 * - Retention (on a correct clock) with `keepMs` of 5 minutes must keep that backup: it ended
 *   seconds ago, not 10 minutes ago.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);
afterEach(() => vi.useRealTimers());

const MINUTE = 60_000;

describe.each(S3_SERVERS)('a snapshot runner whose clock is 10 minutes behind ($name)', (server) => {
  it('records an end time no earlier than S3\'s clock, and retention keeps the backup within keepMs', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('skewend');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'se' };
    try {
      await source.collection<{ _id: number }>('a').insertOne({ _id: 1 });
      const job = snapshotBackup({ source: mongoSource({ db: source }), target: storage });

      const before = Math.floor(Date.now() / 1000) * 1000; // S3's clock (it shares the host's), at 1 s resolution
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 10 * MINUTE, shouldAdvanceTime: true });
      const skewed = await job.run();
      vi.useRealTimers();
      expect(skewed.status).toBe('complete');
      const older = skewed.backupId!;
      await verifyBackup({ backup: { storage, id: older }, level: 'full' });

      const manifest = await readJson<{ end: { time: string } }>(s3.client, s3.bucket, `se/backups/${older}/manifest.json`);
      expect.soft(Date.parse(manifest!.end.time), `end ${manifest!.end.time} vs S3 ${new Date(before).toISOString()}`).toBeGreaterThanOrEqual(before);

      const newest = await job.run();
      if (newest.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: newest.backupId }, level: 'full' });
      const report = await applyRetention({ storage, keepLast: 1, keepMs: 5 * MINUTE });
      expect(report.deleted, 'ended seconds ago by S3\'s clock: within keepMs').not.toContain(older);
      expect((await listAll(s3.client, s3.bucket, `se/backups/${older}/`))).toContain(`se/backups/${older}/manifest.json`);
    } finally {
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  });
});
