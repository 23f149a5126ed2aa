/**
 * An S3 refusal a retry cannot fix is a terminal `StorageError` (`BACKUP_STORAGE_FAILED`,
 * `retryable: false`) naming the bucket and S3's error code — never the credentials — so a queue
 * or scheduler does not redeliver the job forever; a failure that may pass (nobody listening:
 * a refused connection) stays retryable. Real servers:
 * - a bucket that does not exist (`NoSuchBucket`, 404) on moto and gofakes3, for a snapshot run
 *   and a restore;
 * - credentials S3 does not know (`InvalidAccessKeyId`, 403) on a moto of this file's own,
 *   started with authentication on (`INITIAL_NO_AUTH_ACTION_COUNT=1`: only its bucket is created
 *   unauthenticated) — the shared moto checks no credentials, and turning them on there would
 *   fail every other test using it. Skipped, saying why, where the services' moto is not
 *   installed. A bucket policy denying `PutObject` is not tried: moto does not enforce bucket
 *   policies (the injected `AccessDenied` runs are in snapshot-upload-failure.test.ts).
 * Before, every one of these was `retryable: true`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError, mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { repoRoot, requireService } from '../../../test/services/env.js';
import { freePort } from '../../../test/support/servers.js';
import { closeMongo, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/** Credentials the servers are handed: none of them may reach a message. */
const KEY_ID = 'AKIAREFUSEDTEST12345';
const SECRET = 'refused-test-secret-Zq9';

function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 2, credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

/** The error is terminal, names the bucket and the S3 error, and carries no credential. */
function expectRefused(error: unknown, bucket: string, s3Error: string, status: number): void {
  expect(error).toBeInstanceOf(StorageError);
  expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable: false, status: 500, bucket, s3Error, httpStatus: status });
  const message = (error as Error).message;
  expect(message).toContain(bucket);
  expect(message).toContain(s3Error);
  expect(message).toMatch(/not retryable/);
  for (const secret of [KEY_ID, SECRET]) expect(`${message} ${JSON.stringify(error)}`).not.toContain(secret);
}

describe.each(S3_SERVERS)('a bucket that does not exist, on $name', (server) => {
  it('is a terminal StorageError naming the bucket and NoSuchBucket, for a snapshot run and a restore', async () => {
    await requireService(server.service);
    const bucket = `missing-${randomUUID().slice(0, 8)}`;
    const storage = { client: client(process.env[server.env]!), bucket, prefix: 'p' };
    const db = await freshDb('refused');
    try {
      await db.collection('a').insertOne({ _id: 1 } as never);
      const snapshot = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run().catch((e: unknown) => e);
      expectRefused(snapshot, bucket, 'NoSuchBucket', 404);
      const restored = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db }) }).catch((e: unknown) => e);
      expect(restored).toMatchObject({ name: 'StorageError', retryable: false, s3Error: 'NoSuchBucket', httpStatus: 404 });
    } finally {
      await db.dropDatabase();
    }
  });
});

describe('S3 nobody answers (a refused connection)', () => {
  it('is a retryable StorageError', async () => {
    const port = await freePort();
    const db = await freshDb('refusedconn');
    try {
      const storage = { client: client(`http://127.0.0.1:${port}`), bucket: 'nobody', prefix: 'p' };
      const error = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable: true, status: 503, bucket: 'nobody' });
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect((error as Error).message).not.toMatch(/not retryable/);
    } finally {
      await db.dropDatabase();
    }
  });
});

const MOTO = join(repoRoot, '.services', 'venv', 'bin', 'moto_server');

describe.skipIf(!existsSync(MOTO))('credentials S3 does not know, on a moto of its own with authentication on (skipped: no moto_server in .services/venv)', () => {
  let moto: ChildProcess | undefined;
  let endpoint = '';
  const bucket = `refused-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '1' }, stdio: 'ignore' });
    const until = Date.now() + 60_000;
    for (;;) {
      const up = await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > until || moto.exitCode !== null) throw new Error(`moto_server on :${port} did not start`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The one unauthenticated action: the bucket. Every request after it is checked.
    await client(endpoint).send(new CreateBucketCommand({ Bucket: bucket }));
  }, 90_000);
  afterAll(async () => {
    if (moto && moto.exitCode === null) {
      const exited = new Promise((resolve) => moto!.once('exit', resolve));
      moto.kill('SIGKILL');
      await exited;
    }
  });

  it('is a terminal StorageError naming the bucket and InvalidAccessKeyId, never the key', async () => {
    const db = await freshDb('refusedkey');
    try {
      await db.collection('a').insertOne({ _id: 1 } as never);
      const storage = { client: client(endpoint), bucket, prefix: 'p' };
      const error = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run().catch((e: unknown) => e);
      expectRefused(error, bucket, 'InvalidAccessKeyId', 403);
    } finally {
      await db.dropDatabase();
    }
  });
});
