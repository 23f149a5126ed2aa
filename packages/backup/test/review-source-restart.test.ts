/**
 * Review (try-to-break) check: the source database restarted in the middle of a snapshot, on a
 * FerretDB of this file's own (killed with SIGKILL after the first part is uploaded) and moto.
 * The run fails with the typed, retryable `SourceReadError` (not a hang, not a raw driver
 * error); after the restart the next run resumes and the backup restores every document once.
 * A source that is down when a run starts is a `SourceReadError` too (it was reported as a
 * `StorageError`, "the upload was aborted", pointing at S3).
 */
import { randomBytes } from 'node:crypto';
import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceReadError, mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, type OwnServer } from '../../../test/support/servers.js';
import { freshBucket, S3_SERVERS } from './support.js';

const DOCS = 160;

describe.skipIf(!ferretdbAvailable())('a FerretDB restarted mid-snapshot (needs .services/bin/ferretdb-local)', () => {
  let ferret: OwnServer & { uri: string };
  let mongo: MongoClient;
  beforeAll(async () => {
    ferret = await startFerretDB();
    mongo = new MongoClient(ferret.uri, { serverSelectionTimeoutMS: 2000, socketTimeoutMS: 5000 });
    const items = mongo.db('restart').collection<{ _id: number; blob: string }>('items');
    for (let i = 0; i < DOCS; i += 20) await items.insertMany(Array.from({ length: 20 }, (_, j) => ({ _id: i + j, blob: randomBytes(75_000).toString('base64') })));
  }, 120_000);
  afterAll(async () => {
    await mongo?.close().catch(() => undefined);
    await ferret?.dispose();
  });

  it('a source down at the start is a SourceReadError', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const down = new MongoClient('mongodb://127.0.0.1:9/', { serverSelectionTimeoutMS: 500 });
    try {
      const error = await snapshotBackup({ source: mongoSource({ db: down.db('x') }), target: { client: s3.client, bucket: s3.bucket, prefix: 'down' } }).run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceReadError);
    } finally {
      await down.close();
      await s3.drop();
    }
  });

  it('fails with SourceReadError, then resumes and restores every document once', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    try {
      let killing: Promise<void> | undefined;
      const client = {
        send: (async (command: { input: { Key?: string } }, options?: unknown) => {
          const out = await s3.client.send(command as never, options as never);
          // The first part of the data (the start-up probe uploads a part too, under .probe/).
          if (command instanceof UploadPartCommand && command.input.Key?.includes('/data/') && !killing) killing = ferret.stop();
          return out;
        }) as S3Client['send'],
      };
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'restart' };
      const job = (c: { send: S3Client['send'] }) =>
        snapshotBackup({ source: mongoSource({ db: mongo.db('restart'), batchSize: 10 }), target: { ...storage, client: c }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024, leaseMs: 2000 });
      const first = await job(client).run().catch((e: unknown) => e);
      expect(first).toBeInstanceOf(SourceReadError);
      expect(first).toMatchObject({ code: 'BACKUP_SOURCE_FAILED', retryable: true });
      await killing;
      await ferret.start();
      const second = await job(s3.client).run();
      expect(second).toMatchObject({ status: 'complete', resumed: true });
      expect(await verifyBackup({ backup: { storage, id: 'latest' }, level: 'full' })).toMatchObject({ ok: true });
      const target = mongo.db('restored');
      const report = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) });
      expect(await target.collection('items').countDocuments()).toBe(DOCS);
      expect(report.records).toBeGreaterThanOrEqual(DOCS);
    } finally {
      await s3.drop();
    }
  }, 180_000);
});
