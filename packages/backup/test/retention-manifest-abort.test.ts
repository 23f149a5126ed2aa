/**
 * A manifest read that `ctx.signal` aborts (the invocation ending, at its deadline or otherwise)
 * says nothing about the backup. `readCandidate` took it for an unreadable manifest: the report
 * said `streamPruneLeftAlone: [{ reason: 'manifest unreadable' }]` — a damaged backup — and the
 * backup was left out of the run's view (cut at the newest, the run even judged the rest as a
 * whole listing). Now it is a stop: `stoppedBy: 'signal'`, `backups/` in `left.listings`, no
 * `manifest unreadable`, nothing deleted, pruned or written; the next run applies the policy.
 *
 * The signal is aborted by a wrapper around the real S3 client as the run sends the GET of one
 * manifest (the SDK then rejects that call with the signal's abort, as when the handler's
 * deadline aborts it mid-read): the oldest backup's, then the newest's; and the read of a
 * verification record, which rejected the run (`readCandidate` reads it after the manifest; a
 * review test aborting after that GET returned raced with its body: the run rejected or
 * stopped, as the body was read or not), now a stop as well. Two verified snapshots
 * of one job and a stream whose first hours (events two and three hours back) lie below the
 * newer snapshot's start mark, so the policy (`keepLast: 1`) deletes one backup and prunes
 * whole hours. In one run, and in a pass over runs (pages of three ids of `backups/` and a clock
 * that moves ten seconds a page, as in retention-pass.test.ts) whose sweep is aborted at the
 * read of the last manifest of a page: before, the sweep took it for unreadable, went on to save
 * its position with the aborted signal and the run rejected; now it stops and writes nothing.
 * On both S3 servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, redisStreamSource, snapshotBackup, streamBackup, verifyBackup, type S3Target } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, redisClient, S3_SERVERS, smallPages, unique, type Sender } from './support.js';

afterAll(closeMongo);

const HOUR = 3_600_000;

/** `client`, aborting `controller` as it sends the GET of `key` (the call then carries an aborted signal). */
function abortingAt(client: Sender, key: string, controller: AbortController) {
  const state = { aborted: false };
  return {
    state,
    client: {
      async send(command: unknown, options?: unknown) {
        if (!state.aborted && command instanceof GetObjectCommand && command.input.Key === key) {
          state.aborted = true;
          controller.abort(new Error('invocation ending'));
        }
        return client.send(command, options);
      },
    },
  };
}

/** Two verified snapshots of job `a` on stream `orders` (the older one's hours below the newer's mark), under `prefix`. */
async function history(server: (typeof S3_SERVERS)[number], prefix: string) {
  const s3 = await freshBucket(server);
  const source = await freshDb('mabsrc');
  const redis = await redisClient();
  const key = unique('mab-outbox');
  const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix };
  const drop = async () => {
    await redis.del(key);
    redis.disconnect();
    await Promise.all([source.dropDatabase(), s3.drop()]);
  };
  try {
    let lag = 3 * HOUR;
    const app = outboxApp(redis, key, 'orders', source, () => new Date(Date.now() - lag));
    const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
    const snapshot = async (): Promise<string> => {
      const r = await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders', job: 'a' }).run();
      if (r.status !== 'complete') throw new Error(`snapshot ${r.status}`);
      await verifyBackup({ backup: { storage, id: r.backupId }, level: 'full' });
      return r.backupId;
    };
    for (let i = 0; i < 4; i++) await app.put(`x${i}`, { phase: 'x', pad: 'x'.repeat(300) });
    await stream.run();
    const older = await snapshot();
    lag = 2 * HOUR;
    for (let i = 0; i < 4; i++) await app.put(`y${i}`, { phase: 'y', pad: 'y'.repeat(300) });
    await stream.run();
    lag = 0;
    const newer = await snapshot();
    await app.put('z0', { phase: 'z' });
    await stream.run();
    // Everything but the leases (written by every run) and a probe's scratch objects.
    const stored = async () => (await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json') && !k.includes('.probe/'));
    return { s3, storage, older, newer, stored, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}

describe.each(S3_SERVERS)('retention whose signal aborts a manifest read, on $name', (server) => {
  it('a manifest or verification read aborted: stops with stoppedBy signal (not manifest unreadable), deletes, prunes and writes nothing; the next run applies the policy', async () => {
    const { storage, older, newer, stored, drop } = await history(server, 'r');
    try {
      const before = await stored();
      const policy = { keepLast: 1, stream: 'orders' };
      // The oldest manifest, the newest, and the oldest's verification record (before: the run rejected with the signal's reason).
      for (const [id, object] of [[older, 'manifest'], [newer, 'manifest'], [older, 'verification']] as const) {
        const controller = new AbortController();
        const aborting = abortingAt(storage.client as Sender, `r/backups/${id}/${object}.json`, controller);
        const report = await applyRetention({ ...policy, storage: { ...storage, client: aborting.client } }, { signal: controller.signal });
        expect(aborting.state.aborted).toBe(true);
        // Before: streamPruneLeftAlone [{ reason: 'manifest unreadable', backupId: id }], and cut at the newest, `kept: [older]` judged as the whole listing.
        expect(report).toMatchObject({ stoppedBy: 'signal', kept: [], deleted: [], streamObjects: 0, streamPruneLeftAlone: [] });
        expect(report.protected).toEqual({});
        expect(report.left.listings).toContain('backups/');
        expect(await stored()).toEqual(before);
      }

      // The next run, not aborted: the policy as it stands.
      const next = await applyRetention({ ...policy, storage });
      expect(next.stoppedBy).toBeUndefined();
      expect(next).toMatchObject({ kept: [newer], deleted: [older], streamPruneLeftAlone: [] });
      expect(next.protected.newestVerified).toBe(newer);
      expect(next.streamObjects).toBeGreaterThan(0);
    } finally {
      await drop();
    }
  });

  it('in a pass over runs: the sweep aborted at the last manifest of a page stops (signal), writes nothing, and later runs finish the pass', async () => {
    const { s3, storage, older, newer, stored, drop } = await history(server, 'p');
    try {
      // Two recent ids without a manifest sort before the backups: the sweep's first page ends with the older backup.
      for (let i = 0; i < 2; i++) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/0000-${i}/part-1`, Body: 'x' }));
      const small = smallPages(storage.client as Sender);
      const olderManifest = `p/backups/${older}/manifest.json`;
      // Its first GET is the read phase's, the second the sweep's: that one is aborted.
      let olderGets = 0;
      let controller = new AbortController();
      const client: Sender = {
        async send(command: unknown, options?: unknown) {
          if (command instanceof GetObjectCommand && command.input.Key === olderManifest && ++olderGets === 2) controller.abort(new Error('invocation ending'));
          return small.client.send(command, options);
        },
      };
      const passObject = async () => {
        const key = (await listAll(s3.client, s3.bucket, 'p/retention/backups-pass/')).find((k) => k.endsWith('.json'));
        return key === undefined ? undefined : { key, body: await readJson<unknown>(s3.client, s3.bucket, key) };
      };
      const reports = [];
      let aborted = 0;
      do {
        controller = new AbortController();
        small.state.pages = 0;
        const listed = await stored();
        const pass = await passObject();
        const report = await applyRetention({ storage: { ...storage, client }, keepLast: 1, stream: 'orders', reserveMs: 3_000 }, { remainingMs: () => 22_999 - 10_000 * small.state.pages, signal: controller.signal });
        reports.push(report);
        if (controller.signal.aborted) {
          aborted++;
          // Before: the sweep took the read for an unreadable manifest and saved its position with the aborted signal (the run rejected).
          expect(report).toMatchObject({ stoppedBy: 'signal', deleted: [], streamObjects: 0, streamPruneLeftAlone: [] });
          expect(report.backupsPass?.phase).toBe('sweep');
          expect(await stored()).toEqual(listed);
          expect(await passObject()).toEqual(pass);
        }
        expect(reports.length).toBeLessThan(15);
      } while (reports.at(-1)!.backupsPass);
      expect(aborted).toBe(1);
      expect(olderGets).toBeGreaterThan(2);
      expect(reports.flatMap((r) => r.deleted)).toEqual([older]);
      expect(reports.flatMap((r) => r.streamPruneLeftAlone)).toEqual([]);
      expect(reports.reduce((n, r) => n + r.streamObjects, 0)).toBeGreaterThan(0);
      expect(reports.at(-1)!.stoppedBy).toBeUndefined();
      expect((await stored()).filter((k) => k.endsWith('/manifest.json'))).toEqual([`p/backups/${newer}/manifest.json`]);
    } finally {
      await drop();
    }
  });
});
