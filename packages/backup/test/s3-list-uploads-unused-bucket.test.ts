/**
 * `ListMultipartUploads` of a bucket that never held an upload: gofakes3 answers `NoSuchUpload`
 * (404), moto an empty list. Both are "no uploads" (the request names no upload) — a retention
 * pass listing the orphans of such a bucket must not fail on it — while a bucket that is not
 * there (`NoSuchBucket`) still rejects. Real servers, through the package's own listing.
 */
import { randomUUID } from 'node:crypto';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { listUploads, listUploadsPage } from '../src/s3/multipart.js';
import { freshBucket, S3_SERVERS } from './support.js';

describe.each(S3_SERVERS)('listing the uploads of a bucket that never held one, on $name', (server) => {
  it('is an empty, complete listing; a missing bucket still rejects with NoSuchBucket', async () => {
    const s3 = await freshBucket(server);
    try {
      const loc = { client: s3.client, bucket: s3.bucket, prefix: '' };
      expect(await listUploads(loc, 'p/')).toEqual({ uploads: [], complete: true });
      expect(await listUploadsPage(loc, 'p/', undefined)).toEqual({ uploads: [], more: false });
      // Once it holds one, it is listed (the empty answer above was no blind spot).
      const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'p/k' }));
      expect((await listUploads(loc, 'p/')).uploads).toMatchObject([{ key: 'p/k', uploadId: UploadId }]);

      const missing = { ...loc, bucket: `missing-${randomUUID().slice(0, 8)}` };
      await expect(listUploads(missing, 'p/')).rejects.toMatchObject({ name: 'NoSuchBucket' });
      await expect(listUploadsPage(missing, 'p/', undefined)).rejects.toMatchObject({ name: 'NoSuchBucket' });
    } finally {
      await s3.drop();
    }
  });
});
