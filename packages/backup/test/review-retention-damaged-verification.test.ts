/**
 * A backup whose verification record (`backups/<id>/verification.json`) is damaged — not JSON,
 * not a record's shape — is HELD by retention, on moto and gofakes3: never deleted, never the
 * newest verified backup or the point-in-time base, reported in `damaged` (its key and the
 * problem, never the content), and the rest of the policy runs as it would without that backup
 * (before, the run stopped with `BackupCorruptedError` until someone repaired the record).
 * Treating it as unverified instead would delete it: five backups, `keepLast: 1` and a `keepMs`
 * that covers only the two newest (B, C); a damaged B counted as unverified is older than the
 * oldest kept one (C) and would go though `keepMs` protects it. Checked in one run and in a pass
 * over several runs (retention-pass.ts); once the record is repaired, B is kept and then deleted
 * by the rules like any other backup.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, type RetentionReport } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, pagedRetention, readJson, S3_SERVERS, verifiedBackups } from './support.js';

afterAll(closeMongo);

async function bytesOf(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  return Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
}

/** Five verified backups ~1.1 s apart, a clock just after the newest, and a `keepMs` covering only the two newest. */
async function setUp(s3: { client: S3Client; bucket: string }, db: Db) {
  const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
  await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }, { _id: 2 }]);
  const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 5, 1100);
  const ends: number[] = [];
  for (const id of ids) ends.push(Date.parse((await readJson<{ end: { time: string } }>(s3.client, s3.bucket, `p/backups/${id}/manifest.json`))!.end.time));
  const at = ends[4]! + 1000;
  const keepMs = at - ends[3]! + 500; // B (ids[3]) and C within it; ids[2] (≥ 1.1 s older than B) not
  expect(at - ends[2]!).toBeGreaterThanOrEqual(keepMs);
  return { storage, ids, now: () => at, keepMs, at };
}

describe.each(S3_SERVERS)('a damaged verification record on $name', (server) => {
  it('one run: the backup is held and reported, the rest of the policy applies as without it; repaired, it is treated normally', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retdamver');
    try {
      const { storage, ids, now, keepMs, at } = await setUp(s3, db);
      const b = ids[3]!;
      const recordKey = `p/backups/${b}/verification.json`;
      // What the policy deletes with B's record intact, and without B at all: ids[0..2] either way.
      expect((await applyRetention({ storage, keepLast: 1, keepMs, now, dryRun: true })).deleted).toEqual(ids.slice(0, 3));

      const original = await bytesOf(s3.client, s3.bucket, recordKey);
      // A record's shape broken (a value that must not reach the report or the log).
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: recordKey, Body: JSON.stringify({ backupId: b, level: 'full', ok: 'SECRET-7f3a', at: new Date().toISOString(), problems: [] }) }));
      const bObjects = await listAll(s3.client, s3.bucket, `p/backups/${b}/`);
      const warnings: unknown[] = [];
      const log = { info: () => undefined, warn: (...args: unknown[]) => void warnings.push(args), error: () => undefined, debug: () => undefined };

      const plan = await applyRetention({ storage, keepLast: 1, keepMs, now, dryRun: true });
      expect(plan.deleted).toEqual(ids.slice(0, 3));
      const report = await applyRetention({ storage, keepLast: 1, keepMs, now }, { log } as never);
      expect(report.deleted).toEqual(ids.slice(0, 3));
      expect(report.kept).toEqual([b, ids[4]]);
      expect(report.protected).toEqual({ newestVerified: ids[4] });
      expect(report.damaged).toEqual([
        { key: `backups/${b}/verification.json`, code: 'BACKUP_CORRUPTED', what: 'verification record', backupId: b, expected: expect.any(String), problem: expect.stringMatching(/^ok: /), leftAlone: 'backup held' },
      ]);
      expect(JSON.stringify(report)).not.toContain('SECRET');
      expect(JSON.stringify(warnings)).toContain(`backups/${b}/verification.json`);
      expect(JSON.stringify(warnings)).not.toContain('SECRET');
      expect(await listAll(s3.client, s3.bucket, `p/backups/${b}/`)).toEqual(bObjects);
      for (const id of ids.slice(0, 3)) expect(await listAll(s3.client, s3.bucket, `p/backups/${id}/`), id).toEqual([]);

      // With no keepMs B is still held: not deleted though older than the newest kept one.
      const held = await applyRetention({ storage, keepLast: 1, keepMs: 0, now, dryRun: true });
      expect(held.deleted).toEqual([]);
      expect(held.kept).toEqual([b, ids[4]]);

      // Repaired: no longer reported, kept by keepMs; once past keepMs, deleted like any other.
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: recordKey, Body: original }));
      const repaired = await applyRetention({ storage, keepLast: 1, keepMs, now });
      expect(repaired).toMatchObject({ deleted: [], kept: [b, ids[4]], damaged: [] });
      const past = await applyRetention({ storage, keepLast: 1, keepMs, now: () => at + keepMs });
      expect(past).toMatchObject({ deleted: [b], kept: [ids[4]], damaged: [] });
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('a pass over several runs: the backup is held and reported, the rest deleted as without it', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retdamverp');
    try {
      const { storage, ids, now, keepMs } = await setUp(s3, db);
      const b = ids[3]!;
      const recordKey = `p/backups/${b}/verification.json`;
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: recordKey, Body: 'SECRET-7f3a{' }));
      const bObjects = await listAll(s3.client, s3.bucket, `p/backups/${b}/`);

      // 23 s left, 10 s per page of backups/, 3 s kept back: one page (3 ids) a run.
      const paged = pagedRetention(storage);
      const run = (): Promise<RetentionReport> => paged.run({ keepLast: 1, keepMs, now });
      const reports: RetentionReport[] = [await run()];
      expect(reports[0]!.backupsPass).toBeDefined();
      while (reports.at(-1)!.backupsPass) {
        reports.push(await run());
        expect(reports.length).toBeLessThan(15);
      }
      expect(reports.flatMap((r) => r.deleted)).toEqual(ids.slice(0, 3));
      expect(reports.some((r) => r.backupsPass?.restarted !== undefined)).toBe(false);
      const damaged = reports.flatMap((r) => r.damaged);
      expect(damaged.length).toBeGreaterThan(0);
      for (const d of damaged) expect(d).toEqual({ key: `backups/${b}/verification.json`, code: 'BACKUP_CORRUPTED', what: 'verification record', backupId: b, expected: expect.any(String), problem: 'not JSON', leftAlone: 'backup held' });
      expect(JSON.stringify(reports)).not.toContain('SECRET');
      expect(reports.flatMap((r) => r.kept)).toContain(b);
      expect(await listAll(s3.client, s3.bucket, `p/backups/${b}/`)).toEqual(bObjects);
      expect(await listAll(s3.client, s3.bucket, `p/backups/${ids[4]}/`)).not.toEqual([]);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
