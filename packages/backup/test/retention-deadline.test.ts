/**
 * Retention inside a function, on moto and gofakes3 (FerretDB as the source): a run stops
 * starting deletes when the invocation's deadline nears (`ctx.remainingMs()` under
 * `reserveMs` plus the time of the next deletes) or its signal aborts, never leaves a backup
 * half-deleted by the deadline (a backup's deletes start together or not at all), reports why
 * it stopped and how much is left, and the next run finishes. The deadline is a clock that
 * moves one second per delete sent to the real server, so where the run stops is exact.
 */
import { AbortMultipartUploadCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, S3_SERVERS, timeOnlyAtStart, verifiedBackups } from './support.js';

afterAll(closeMongo);

const later = () => Date.now() + 86_400_000 + 3_600_000; // the default orphan grace (24 h) has passed

describe.each(S3_SERVERS)('retention under a deadline, on $name', (server) => {
  it('stops starting deletes in time, never splits a backup, reports what is left; the next runs finish', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retdl');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'dl' };
    try {
      await db.collection<{ _id: number }>('a').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
      await db.collection<{ _id: number }>('b').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
      // Six verified backups of two collections: manifest, verification and two segments each.
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 6);
      // The two oldest lost their manifest (deletions that stopped part way): orphans of three objects each.
      for (const id of ids.slice(0, 2)) await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `dl/backups/${id}/manifest.json` }));
      const objectsOf = (id: string) => listAll(s3.client, s3.bucket, `dl/backups/${id}/`);

      let deletes = 0;
      let abortAfter = Number.POSITIVE_INFINITY;
      const controller = new AbortController();
      const counting = {
        async send(command: unknown, options?: unknown) {
          const out = await s3.client.send(command as never, options as never);
          if ((command instanceof DeleteObjectCommand || command instanceof AbortMultipartUploadCommand) && String(command.input.Key).startsWith('dl/backups/')) {
            if (++deletes >= abortAfter) controller.abort(new Error('deadline'));
          }
          return out;
        },
      };
      const options = { storage: { ...storage, client: counting }, keepLast: 1, now: later, reserveMs: 3_000 };

      // Time at the start (a run with none stops before any S3 request), then less than the
      // reserve: not even the listing of backups/ starts (it is named as left).
      const none = await applyRetention(options, timeOnlyAtStart());
      expect(none).toMatchObject({ stoppedBy: 'deadline', deleted: [], kept: [], uncommitted: [], left: { backups: 0, orphanIds: 0, listings: ['retention/backups-pass/all/', 'backups/'] } }); // the other policies' passes are not listed either
      expect(none.orphans).toMatchObject({ objects: 0, idsLeft: 0 });
      expect(deletes).toBe(0);

      // 10.5 s left at the start, 1 s per delete, 3 s kept back: two backups (4 deletes each)
      // fit, the third would end past the reserve, so it is not started.
      const first = await applyRetention(options, { remainingMs: () => 10_500 - 1_000 * deletes });
      expect(first).toMatchObject({ stoppedBy: 'deadline', deleted: [ids[2], ids[3]], left: { backups: 1, streamObjects: 0, orphanIds: 2, streamOrphans: 0 } });
      expect(first.orphans).toMatchObject({ objects: 0, remaining: true, idsLeft: 2 });
      expect(deletes).toBe(8);
      for (const id of ids.slice(2, 4)) expect(await objectsOf(id)).toEqual([]);
      expect(await objectsOf(ids[4]!)).toHaveLength(4); // whole: its manifest is still there
      expect(await verifyBackup({ backup: { storage, id: ids[4]! }, level: 'full' })).toMatchObject({ ok: true });

      // The invocation's signal aborts after 6 more deletes: the last doomed backup (4) and two
      // of the orphans' objects, then nothing more starts.
      deletes = 0;
      abortAfter = 6;
      const second = await applyRetention(options, { signal: controller.signal });
      expect(second).toMatchObject({ stoppedBy: 'signal', deleted: [ids[4]], left: { backups: 0, orphanIds: 2 } });
      expect(second.orphans).toMatchObject({ objects: 2, cleaned: [], remaining: true, idsLeft: 2 });
      expect(deletes).toBe(6);
      expect(await objectsOf(ids[4]!)).toEqual([]);

      // Without a deadline the next run finishes what is left.
      const third = await applyRetention(options);
      expect(third.stoppedBy).toBeUndefined();
      expect(third).toMatchObject({ deleted: [], left: { backups: 0, streamObjects: 0, orphanIds: 0, streamOrphans: 0 } });
      expect(third.orphans).toMatchObject({ cleaned: [ids[0], ids[1]], objects: 4, remaining: false, idsLeft: 0 });
      expect(await listAll(s3.client, s3.bucket, 'dl/backups/')).toEqual((await objectsOf(ids[5]!)).sort());
      expect(await verifyBackup({ backup: { storage, id: ids[5]! }, level: 'full' })).toMatchObject({ ok: true });
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('the orphan batch limit stops the run with stoppedBy "orphanBatchSize" and counts what is left', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retbatch');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'bt' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 3);
      for (const id of ids.slice(0, 2)) await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `bt/backups/${id}/manifest.json` }));
      const report = await applyRetention({ storage, now: later, orphanBatchSize: 3 });
      expect(report).toMatchObject({ stoppedBy: 'orphanBatchSize', left: { orphanIds: 1 } });
      expect(report.orphans).toMatchObject({ cleaned: [ids[0]], objects: 3, remaining: true, idsLeft: 1 });
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  });
});

describe('retention deadline options', () => {
  it('checks reserveMs and abandonedCheckpointMs up front', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const storage = { client: s3.client, bucket: s3.bucket };
    try {
      for (const bad of [{ reserveMs: -1 }, { reserveMs: 0.5 }, { abandonedCheckpointMs: -1 }, { abandonedCheckpointMs: '7d' }]) {
        const error = await applyRetention({ storage, ...(bad as object) }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: Object.keys(bad)[0] });
      }
    } finally {
      await s3.drop();
    }
  });
});
