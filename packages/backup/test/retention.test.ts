/**
 * Retention's delete order and failure on both S3 servers: the manifest goes first (the backup
 * stops existing before any of its data does), a failed delete throws `RetentionDeleteError`
 * and nothing after it is deleted, and `keepMs` keeps backups younger than it whatever
 * `keepLast` says. (Which backups retention protects: pitr.test.ts.)
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { RetentionDeleteError, applyRetention, mongoSource, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, S3_SERVERS, verifiedBackups } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('retention on $name', (server) => {
  it('deletes the manifest first, stops at a failed delete with a typed error, keeps what keepMs covers', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retention');
    try {
      await db.collection<{ _id: number; n: number }>('docs').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, n: i })));
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ret' };
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 3);

      // Every backup is younger than keepMs: nothing goes, though keepLast is 1.
      expect((await applyRetention({ storage, keepLast: 1, keepMs: 3_600_000, dryRun: true })).deleted).toEqual([]);

      // S3 refuses to delete the oldest backup's segment (permissions, say).
      const deletes: string[] = [];
      const refusing = {
        send(command: unknown, options?: unknown) {
          if (command instanceof DeleteObjectCommand) {
            const key = String(command.input.Key);
            if (key.startsWith('ret/backups/')) deletes.push(key); // not the start-up probe's own objects
            if (key.endsWith('.ndjson.gz')) return Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const error = await applyRetention({ storage: { ...storage, client: refusing }, keepLast: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetentionDeleteError);
      expect(error).toMatchObject({ code: 'RETENTION_DELETE_FAILED', retryable: true });
      // Manifest, then verification record, then the segment that failed; the next backup untouched.
      expect(deletes).toEqual([`ret/backups/${ids[0]}/manifest.json`, `ret/backups/${ids[0]}/verification.json`, expect.stringMatching(new RegExp(`^ret/backups/${ids[0]}/data/.+\\.ndjson\\.gz$`))]);
      const left = await listAll(s3.client, s3.bucket, 'ret/backups/');
      expect(left.filter((k) => k.startsWith(`ret/backups/${ids[0]}/`))).toEqual([deletes[2]]); // no manifest: not a backup any more
      expect(left.filter((k) => k.startsWith(`ret/backups/${ids[1]}/`))).toContain(`ret/backups/${ids[1]}/manifest.json`);

      // A retry with S3 answering: the half-deleted backup has no manifest, so it is left alone
      // (as an uncommitted one); the next older one goes.
      const retried = await applyRetention({ storage, keepLast: 1 });
      expect(retried.deleted).toEqual([ids[1]]);
      expect(retried.kept).toEqual([ids[2]]);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
