/**
 * fxb item 2, on moto and gofakes3: the start-up probe read a 404 to its conditional writes as
 * "refused", i.e. as the condition honoured — `NoSuchBucket` included. A bucket deleted while
 * the probe ran (after its multipart upload's part, before the `If-None-Match` complete) gave
 * capabilities (`multipartIfNoneMatch: true`, remembered for the client) instead of an error
 * (moto answers that complete `NoSuchBucket`, gofakes3 `NoSuchUpload`: a 404 there is checked
 * with one `HeadBucket`);
 * and a bucket missing from the start was a `StorageError` that said only "cannot be used
 * (NoSuchBucket HTTP 404)". Both are the permanent `StorageError` naming the bucket
 * (`"<bucket>" does not exist`), as everywhere else (missing-bucket.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { StorageError, probeS3 } from '../src/index.js';
import type { S3Location } from '../src/s3/client.js';
import { closeMongo, dropBucket, freshBucket, S3_SERVERS } from './support.js';

afterAll(closeMongo);

function expectNoSuchBucket(error: unknown, bucket: string): void {
  expect(error).toBeInstanceOf(StorageError);
  expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable: false, bucket });
  expect((error as Error).message).toContain(`"${bucket}" does not exist`);
}

describe.each(S3_SERVERS)('probeS3 and a bucket that does not exist, on $name', (server) => {
  it('missing from the start: the permanent StorageError naming the bucket', async () => {
    const s3 = await freshBucket(server);
    await s3.drop();
    // A client of its own: the probe remembers its answer per client.
    const client: S3Location['client'] = { send: (command: never, options?: never) => s3.client.send(command, options) };
    expectNoSuchBucket(await probeS3({ client, bucket: s3.bucket, prefix: 'p' }).catch((e: unknown) => e), s3.bucket);
  });

  it('deleted while the probe runs (before its conditional complete): an error naming it, not capabilities', async () => {
    const s3 = await freshBucket(server);
    let dropped = false;
    const client: S3Location['client'] = {
      async send(command: unknown, options?: never) {
        const out = await s3.client.send(command as never, options);
        if (command instanceof UploadPartCommand && !dropped) {
          dropped = true;
          await dropBucket(s3.client, s3.bucket);
        }
        return out;
      },
    };
    const outcome = await probeS3({ client, bucket: s3.bucket, prefix: 'p' }).catch((e: unknown) => e);
    expect(dropped).toBe(true);
    expectNoSuchBucket(outcome, s3.bucket);
  });
});
