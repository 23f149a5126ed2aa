/**
 * Resumability and exclusion, on both S3 servers:
 * - the deadline nears → a checkpoint; the next invocation continues and the restore equals the source;
 * - a real child process killed with SIGKILL mid-backup → the next invocation resumes, reconciling
 *   with ListParts (parts the checkpoint does not know are replaced or discarded);
 * - a terminal multipart failure mid-way → the upload is aborted, no manifest; the next run
 *   completes (a retryable one keeps the upload: snapshot-upload-failure.test.ts);
 * - two runners at once → one manifest.
 */
import { rmSync } from 'node:fs';
import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { EJSON } from 'bson';
import { LeaseHeldError, StorageError, mongoSource, mongoTarget, restore, snapshotBackup, type SnapshotCheckpoint } from '../src/index.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, deadlineAfter, freshBucket, freshDb, listAll, noise, openUploads, readJson, S3_SERVERS, whenLeaseFree } from './support.js';

// Test documents with _ids of any type.
type Doc = { _id: any; [field: string]: any };

afterAll(closeMongo);

const MIB = 1024 * 1024;
/** About 20 MiB of incompressible documents: four 5 MiB parts. */
const DOCS = 5_000;

async function fillNoise(db: Db): Promise<void> {
  for (let start = 0; start < DOCS; start += 500) {
    await db.collection<Doc>('blobs').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
  }
}

async function sameData(a: Db, b: Db): Promise<void> {
  const read = async (db: Db) => (await db.collection('blobs').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
  const [x, y] = await Promise.all([read(a), read(b)]);
  expect(y.length).toBe(x.length);
  expect(y).toEqual(x);
}

const common = { partSizeBytes: 5 * MIB, partsInFlight: 2, memoryBudgetBytes: 64 * MIB, leaseMs: 3_000 };

describe.each(S3_SERVERS)('resume and exclusion on $name', (server) => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('resume');
    await fillNoise(source);
  }, 120_000);
  afterAll(() => source.dropDatabase());

  it('checkpoints when the deadline nears and completes on the next invocation', async () => {
    const s3 = await freshBucket(server);
    const target = await freshDb('resumed');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'deadline' };
    try {
      // The deadline "nears" once the first part is sent.
      const cut = deadlineAfter(s3.client, UploadPartCommand, 1);
      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: { ...storage, client: cut.client }, ...common });
      const first = await job.run(cut.ctx('first'));
      expect(first.status).toBe('checkpointed');
      const checkpoint = await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'deadline/jobs/snapshot/checkpoint.json');
      expect(checkpoint!.datasets[0]!.current!.parts.length).toBeGreaterThan(0);
      expect(await listAll(s3.client, s3.bucket, `deadline/backups/${first.backupId}/manifest.json`)).toEqual([]);

      const second = await job.run({ requestId: 'second' });
      expect(second).toMatchObject({ status: 'complete', backupId: first.backupId, resumed: true, records: DOCS });
      await restore({ backup: { storage, id: first.backupId! }, target: mongoTarget({ db: target }) });
      await sameData(source, target);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
    } finally {
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('resumes after the process is killed (SIGKILL), with parts the checkpoint does not know', async () => {
    const s3 = await freshBucket(server);
    const target = await freshDb('killed');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'killed' };
    const { file, dir } = bundleChild(new URL('./child/snapshot-child.ts', import.meta.url).href);
    try {
      // Parts 1-3 are in S3; the checkpoint knows some of them.
      const { output, killed, errors } = await runChild(file, { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_DB: source.databaseName, SLOW_PART_MS: '400', CHILD_LEASE_MS: '10000' }, /part 3\n/);
      expect({ killed, errors }).toEqual({ killed: true, errors: [] });
      expect(output).not.toMatch(/done/);
      // The dead runner's lease (10 s, renewed every third: at least 6.6 s left at the kill) is still
      // held: a new runner is refused until it expires.
      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: storage, ...common });
      await expect(job.run({ requestId: 'too-early' })).rejects.toBeInstanceOf(LeaseHeldError);
      const checkpoint = (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json'))!;
      const current = checkpoint.datasets[0]!.current!;
      // Make sure S3 holds parts the checkpoint has never heard of: the next number, and one far past the end.
      const known = current.parts.length;
      for (const number of [known + 1, known + 8]) {
        await (s3.client as S3Client).send(new UploadPartCommand({ Bucket: s3.bucket, Key: current.key, UploadId: current.uploadId, PartNumber: number, Body: Buffer.alloc(5 * MIB, 7) }));
      }
      const resumed = await whenLeaseFree(() => job.run({ requestId: 'next' }));
      expect(resumed).toMatchObject({ status: 'complete', backupId: checkpoint.backupId, resumed: true, records: DOCS });
      expect((resumed as { strayParts: number }).strayParts).toBeGreaterThanOrEqual(2);
      await restore({ backup: { storage, id: checkpoint.backupId }, target: mongoTarget({ db: target }) });
      await sameData(source, target);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('aborts the upload when a part fails mid-way with a terminal error: no partial object, no manifest; the next run completes', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'failing' };
    try {
      let parts = 0;
      const failing = {
        send(command: unknown, options?: unknown) {
          if (command instanceof UploadPartCommand && ++parts === 3) {
            return Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: { ...storage, client: failing }, ...common });
      const error = await job.run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      const objects = await listAll(s3.client, s3.bucket, 'failing/backups/');
      expect(objects.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
      expect(objects.filter((k) => k.endsWith('.ndjson.gz'))).toEqual([]);

      const again = await snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: storage, ...common }).run();
      expect(again).toMatchObject({ status: 'complete', records: DOCS });
    } finally {
      await s3.drop();
    }
  }, 120_000);

  it('lets only one of two concurrent runners commit: one manifest', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'racing' };
    try {
      const job = () => snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: storage, ...common });
      const outcomes = await Promise.allSettled([job().run({ requestId: 'a' }), job().run({ requestId: 'b' })]);
      const fulfilled = outcomes.filter((o) => o.status === 'fulfilled');
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.reason).toBeInstanceOf(LeaseHeldError);
      const manifests = (await listAll(s3.client, s3.bucket, 'racing/backups/')).filter((k) => k.endsWith('manifest.json'));
      expect(manifests).toHaveLength(1);
    } finally {
      await s3.drop();
    }
  }, 120_000);
});
