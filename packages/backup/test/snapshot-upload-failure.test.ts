/**
 * A snapshot's multipart upload after an S3 failure, on both S3 servers (FerretDB as the source).
 * The servers cannot answer `SlowDown` or a 5xx on demand, so the failure is injected at the
 * client: the n-th `UploadPart` rejects with the SDK's error shape, as the SDK hands one over
 * once its own retries are spent.
 * - A retryable failure (`SlowDown`, 503) keeps the upload open and its acknowledged parts in the
 *   checkpoint, as the deadline does: the re-run uploads only the parts after them (counted) and
 *   the restore equals the source.
 * - A terminal failure (`AccessDenied`, `BadDigest`) aborts the upload: no partial object, no
 *   manifest, and the next run starts afresh.
 * - The kept upload aborted behind the job's back (another client's `AbortMultipartUpload`), or
 *   one of its parts replaced: the re-run checks it with `ListParts`, says why in its log and
 *   writes the segment again from its first part.
 * - A job never run again: retention aborts the kept upload once the checkpoint is abandoned.
 */
import { AbortMultipartUploadCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { EJSON } from 'bson';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError, applyRetention, mongoSource, mongoTarget, restore, snapshotBackup, type S3Target, type SnapshotCheckpoint } from '../src/index.js';
import type { LogLike } from '../src/context.js';
import { closeMongo, freshBucket, freshDb, listAll, noise, openUploads, readJson, S3_SERVERS, type Sender } from './support.js';

afterAll(closeMongo);

const MIB = 1024 * 1024;
/** About 16 MiB of incompressible documents: four parts of 5 MiB (the last one short). */
const DOCS = 4_000;
const common = { partSizeBytes: 5 * MIB, partsInFlight: 2, memoryBudgetBytes: 64 * MIB, leaseMs: 3_000 };

/** An SDK error as the client hands it over after its retries: name, HTTP status, the retry trait for throttling. */
const sdkError = (name: string, status: number, message: string) => Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
const slowDown = () => sdkError('SlowDown', 503, 'Please reduce your request rate.');

/**
 * `client`, the `failAt`-th UploadPart of a segment rejected with `error()` (0: none), and the
 * reply to the `holdAt`-th held 1.5 s (still in flight when a later part fails); `parts.count`
 * counts the segments' UploadParts sent on (not the S3 probe's).
 */
function partsClient(client: Sender, failAt = 0, error: () => Error = slowDown, holdAt = 0) {
  const parts = { count: 0, calls: 0 };
  return {
    parts,
    client: {
      async send(command: unknown, options?: unknown) {
        let hold = false;
        if (command instanceof UploadPartCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
          if (++parts.calls === failAt) throw error();
          parts.count++;
          hold = parts.calls === holdAt;
        }
        const out = await client.send(command, options);
        if (hold) await new Promise((resolve) => setTimeout(resolve, 1_500));
        return out;
      },
    } as S3Target['client'],
  };
}

/** A log keeping its warnings. */
function warnings(): { log: LogLike; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { info: () => undefined, error: () => undefined, warn: (message) => void lines.push(message) } };
}

async function sameData(a: Db, b: Db): Promise<void> {
  const read = async (db: Db) => (await db.collection('blobs').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
  const [x, y] = await Promise.all([read(a), read(b)]);
  expect(y.length).toBe(x.length);
  expect(y).toEqual(x);
}

/** Parts in every segment of the backup's manifest. */
async function manifestParts(client: S3Client, bucket: string, prefix: string, id: string): Promise<number[]> {
  const manifest = await readJson<{ datasets: Array<{ segments: Array<{ parts: unknown[] }> }> }>(client, bucket, `${prefix}/backups/${id}/manifest.json`);
  return manifest!.datasets[0]!.segments.map((s) => s.parts.length);
}

describe.each(S3_SERVERS)('a snapshot upload after an S3 failure, on $name', (server) => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('upfail');
    for (let start = 0; start < DOCS; start += 500) {
      await source.collection<{ _id: number; blob: string }>('blobs').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
    }
  }, 120_000);
  afterAll(() => source.dropDatabase());

  const job = (storage: S3Target) => snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: storage, ...common });

  /** A first run failed by a retryable `SlowDown` on its third UploadPart, the second's reply still on its way: the checkpoint's open segment. */
  async function failedRetryably(storage: S3Target & { client: S3Client }): Promise<{ checkpoint: SnapshotCheckpoint; current: NonNullable<SnapshotCheckpoint['datasets'][number]['current']> }> {
    const failing = partsClient(storage.client, 3, slowDown, 2);
    const error = await job({ ...storage, client: failing.client }).run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable: true, bucket: storage.bucket, s3Error: 'SlowDown', httpStatus: 503 });
    const checkpoint = (await readJson<SnapshotCheckpoint>(storage.client, storage.bucket, `${storage.prefix}/jobs/snapshot/checkpoint.json`))!;
    const current = checkpoint.datasets[0]!.current;
    // Part 1 was acknowledged before part 3 failed, part 2 just after (two in flight): the run waits for it, both are kept, the upload open.
    expect(current?.parts.map((p) => p.number)).toEqual([1, 2]);
    expect(await openUploads(storage.client, storage.bucket)).toEqual([{ key: current!.key, uploadId: current!.uploadId }]);
    expect((error as Error).message).toMatch(/SlowDown.*its upload stays open/);
    return { checkpoint, current: current! };
  }

  it('a retryable failure keeps the upload: the re-run uploads only the remaining parts; the restore equals the source', async () => {
    const s3 = await freshBucket(server);
    const target = await freshDb('upfailres');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'retry' };
    try {
      const { checkpoint, current } = await failedRetryably(storage);
      const counted = partsClient(s3.client);
      const { log, lines } = warnings();
      const next = await job({ ...storage, client: counted.client }).run({ log });
      expect(next).toMatchObject({ status: 'complete', backupId: checkpoint.backupId, resumed: true, records: DOCS });
      expect(lines).toEqual([]);
      // The kept parts are sealed as the first segment; the re-run wrote only what follows them.
      const segments = await manifestParts(s3.client, s3.bucket, 'retry', checkpoint.backupId);
      expect(segments[0]).toBe(current.parts.length);
      expect(counted.parts.count).toBe(segments.reduce((a, b) => a + b, 0) - current.parts.length);
      expect(counted.parts.count).toBeGreaterThan(0);
      await restore({ backup: { storage, id: checkpoint.backupId }, target: mongoTarget({ db: target }) });
      await sameData(source, target);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
    } finally {
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 180_000);

  it.each([
    ['AccessDenied', 403, 'Access Denied'],
    ['BadDigest', 400, 'The CRC32 you specified did not match the calculated checksum.'],
  ])('a terminal failure (%s) aborts the upload: no partial object, no manifest; the next run starts afresh', async (name, status, message) => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'terminal' };
    try {
      const failing = partsClient(s3.client, 3, () => sdkError(name, status, message));
      const error = await job({ ...storage, client: failing.client }).run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      // Terminal: a scheduler must not redeliver it; named by bucket and S3's error code.
      expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable: false, bucket: s3.bucket, s3Error: name, httpStatus: status });
      expect((error as Error).message).toMatch(/the upload was aborted; not retryable: S3 refused the request/);
      expect((error as Error).message).toContain(`bucket "${s3.bucket}"`);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      const checkpoint = await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'terminal/jobs/snapshot/checkpoint.json');
      expect(checkpoint!.datasets[0]!.current).toBeUndefined();
      const objects = await listAll(s3.client, s3.bucket, 'terminal/backups/');
      expect(objects.filter((k) => k.endsWith('manifest.json') || k.endsWith('.ndjson.gz'))).toEqual([]);

      const counted = partsClient(s3.client);
      const again = await job({ ...storage, client: counted.client }).run();
      expect(again).toMatchObject({ status: 'complete', records: DOCS });
      const segments = await manifestParts(s3.client, s3.bucket, 'terminal', again.backupId!);
      expect(counted.parts.count).toBe(segments.reduce((a, b) => a + b, 0));
    } finally {
      await s3.drop();
    }
  }, 180_000);

  it.each([
    ['aborted by another client', 'no longer exists'],
    ['with a part replaced by another client', 'lists its part 1 otherwise than the checkpoint'],
  ])('a kept upload %s: the re-run writes the segment again from its first part and says why', async (what, why) => {
    const s3 = await freshBucket(server);
    const target = await freshDb('upfailgone');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'gone' };
    try {
      const { checkpoint, current } = await failedRetryably(storage);
      if (what.startsWith('aborted')) await s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: current.key, UploadId: current.uploadId }));
      else await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: current.key, UploadId: current.uploadId, PartNumber: 1, Body: Buffer.alloc(5 * MIB, 7) }));
      const counted = partsClient(s3.client);
      const { log, lines } = warnings();
      const next = await job({ ...storage, client: counted.client }).run({ log });
      expect(next).toMatchObject({ status: 'complete', backupId: checkpoint.backupId, resumed: true, records: DOCS });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`segment 0 of blobs is written again from its first part`);
      expect(lines[0]).toContain(why);
      // Nothing of the dropped upload is trusted: every part of the backup was uploaded by the re-run.
      const segments = await manifestParts(s3.client, s3.bucket, 'gone', checkpoint.backupId);
      expect(counted.parts.count).toBe(segments.reduce((a, b) => a + b, 0));
      await restore({ backup: { storage, id: checkpoint.backupId }, target: mongoTarget({ db: target }) });
      await sameData(source, target);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
    } finally {
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 180_000);

  it('a job never run again after a retryable failure: retention aborts the kept upload once the checkpoint is abandoned', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'never' };
    try {
      const { checkpoint } = await failedRetryably(storage);
      // Within abandonedCheckpointMs (7 days) the checkpoint protects its upload.
      const young = await applyRetention({ storage });
      expect(young.orphans).toMatchObject({ abandoned: [], uploadsAborted: 0 });
      expect(await openUploads(s3.client, s3.bucket)).toHaveLength(1);
      const weekLater = () => Date.now() + 8 * 86_400_000;
      const report = await applyRetention({ storage, now: weekLater });
      expect(report.orphans).toMatchObject({ abandoned: [{ job: 'snapshot', backupId: checkpoint.backupId }], cleaned: [checkpoint.backupId], uploadsAborted: 1 });
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
    } finally {
      await s3.drop();
    }
  }, 180_000);
});
