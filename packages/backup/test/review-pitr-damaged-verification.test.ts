/**
 * Review (restore side): point-in-time restore when the newest snapshot's
 * `backups/<id>/verification.json` is damaged (not JSON). Retention holds such a backup and
 * never takes it as the point-in-time base — it keeps the older verified base (and the stream
 * from its mark) for exactly this. `pointInTimeRestore` instead threw `BackupCorruptedError`
 * on the damaged record, for every `at` after that snapshot: the state an older verified
 * snapshot plus the stream reproduces was out of reach until someone re-verified it. The
 * damaged record now counts as not verified (as in retention): the restore uses the newest
 * older verified snapshot, and logs a warning with the key; with none, `PitrTargetError`
 * names the damaged record. A damaged newer manifest was passed over silently: it is now
 * logged the same way (its key and the error's code, never its content). FerretDB (:27117),
 * both S3 servers.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EJSON } from 'bson';
import type { Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { PitrTargetError, mongoSource, mongoTarget, pointInTimeRestore, snapshotBackup, streamBackup, verifyBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

let n = 0;
const envelope = (id: string, seq: number, after: Record<string, unknown>): OutboxEnvelope => ({
  id: `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  type: 'OrderChanged',
  aggregateType: 'orders',
  aggregateId: id,
  seq,
  payload: {},
  occurredAt: new Date().toISOString(),
  change: { op: seq === 1 ? 'insert' : 'update', after: EJSON.serialize(after, { relaxed: false }) },
});
const dump = async (db: Db): Promise<string[]> => (await db.collection('orders').find({}).toArray()).map((d) => EJSON.stringify(d, { relaxed: false })).sort();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A MongoDB source whose changes are streamed: `put` writes a document and appends its change (returning its time), `snap` takes a verified snapshot. */
function history(storage: { client: S3Client; bucket: string; prefix: string }, source: Db) {
  const orders = source.collection<{ _id: string; v: number }>('orders');
  const stream = streamBackup({ name: 'orders', target: storage });
  const job = snapshotBackup({ source: mongoSource({ db: source }), target: storage, stream: 'orders' });
  return {
    async put(id: string, seq: number): Promise<string> {
      const doc = { _id: id, v: seq };
      await orders.replaceOne({ _id: id }, doc, { upsert: true });
      const e = envelope(id, seq, doc);
      await stream.append([e]);
      return e.occurredAt;
    },
    async snap(): Promise<string> {
      const done = await job.run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: done.backupId }, level: 'full' });
      return done.backupId;
    },
  };
}

/** A logger keeping its warnings. */
function warningLog() {
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const log = { debug() {}, info() {}, error() {}, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, ...(fields ? { fields } : {}) }) };
  return { warnings, log };
}

describe.each(S3_SERVERS)('point-in-time restore past a damaged verification record on $name', (server) => {
  it('uses the older verified snapshot (warning logged); with none, PitrTargetError names the record', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('pdvsrc');
    const target = await freshDb('pdvdst');
    const none = await freshDb('pdvnone');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pdv' };
      const { put, snap } = history(storage, source);
      for (const id of ['a', 'b', 'c']) await put(id, 1);
      const older = await snap();
      await pause(5);
      await put('a', 2);
      await put('d', 1);
      const newer = await snap();
      await pause(5);
      await put('b', 2);
      const at = await put('e', 1);

      const recordKey = `pdv/backups/${newer}/verification.json`;
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: recordKey, Body: '{"ok": tru' }));
      const { warnings, log } = warningLog();

      const report = await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: target }) }, { log });
      expect(report.snapshot.backupId).toBe(older);
      expect(await dump(target)).toEqual(await dump(source));
      expect(JSON.stringify(warnings)).toContain(`backups/${newer}/verification.json`);
      expect(JSON.stringify(warnings)).not.toContain('tru');

      // Both records damaged: no verified snapshot; the refusal names the damaged records, nothing written.
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `pdv/backups/${older}/verification.json`, Body: '[]' }));
      const refused = await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: none }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PitrTargetError);
      expect((refused as Error).message).toContain(`backups/${older}/verification.json`);
      expect((refused as Error).message).toContain(`backups/${newer}/verification.json`);
      expect(await none.listCollections().toArray()).toEqual([]);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), none.dropDatabase(), s3.drop()]);
    }
  });

  it('passes over a damaged manifest with a warning naming its key and the error code (never its content)', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('pdmsrc');
    const target = await freshDb('pdmdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pdm' };
      const { put, snap } = history(storage, source);
      for (const id of ['a', 'b']) await put(id, 1);
      const older = await snap();
      await pause(5);
      await put('a', 2);
      const newer = await snap();
      await pause(5);
      const at = await put('c', 1);

      const manifestKey = `pdm/backups/${newer}/manifest.json`;
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: manifestKey, Body: '{"formatVersion": 1, "secretValue": "hunter' }));
      const { warnings, log } = warningLog();

      const report = await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: target }) }, { log });
      expect(report.snapshot.backupId).toBe(older);
      expect(await dump(target)).toEqual(await dump(source));
      const logged = JSON.stringify(warnings);
      expect(logged, 'warnings').toContain(`backups/${newer}/manifest.json`);
      expect(logged).toContain('BACKUP_CORRUPTED');
      expect(logged).not.toContain('hunter');
      expect(logged).not.toContain('secretValue');
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
