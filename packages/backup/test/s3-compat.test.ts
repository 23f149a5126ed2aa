/**
 * What the start-up probe finds on each S3 server, and ListParts pagination. Where a server
 * deviates from S3, the assertion says so. (The jobs' lease is `@steadyfn/lease`'s S3 store,
 * tested on both servers in packages/lease.)
 */
import { CreateMultipartUploadCommand, UploadPartCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { probeS3 } from '../src/index.js';
import { listParts } from '../src/s3/multipart.js';
import { freshBucket, S3_SERVERS } from './support.js';

describe.each(S3_SERVERS)('S3 behaviour on $name', (server) => {
  it('probe: conditional writes, and the deviations of this server', async () => {
    const s3 = await freshBucket(server);
    try {
      const { capabilities } = await probeS3({ client: s3.client, bucket: s3.bucket, prefix: 'p' });
      expect(capabilities.ifNoneMatch).toBe(true);
      expect(capabilities.ifMatch).toBe(true);
      // Deviation from S3: gofakes3 1.2 ignores If-None-Match on CompleteMultipartUpload (it overwrites).
      expect(capabilities.multipartIfNoneMatch).toBe(server.name === 'moto');
      // Deviation from S3: neither server rejects a wrong x-amz-checksum-crc32, so no backup relies on it.
      expect(capabilities.serverChecksums).toBe(false);
      expect(capabilities.defaultChecksumsBroken).toBe(false);
    } finally {
      await s3.drop();
    }
  });

  it("probe: a client with the SDK's default checksums works (falls back to WHEN_REQUIRED where the server needs it)", async () => {
    const s3 = await freshBucket(server, { defaults: true });
    try {
      const { capabilities } = await probeS3({ client: s3.client, bucket: s3.bucket, prefix: 'd' });
      // Deviation from S3: gofakes3 fails the SDK's response checksum validation of a ranged GET.
      expect(capabilities.defaultChecksumsBroken).toBe(server.name === 'gofakes3');
    } finally {
      await s3.drop();
    }
  });

  it('ListParts is followed page by page (1,000 per page on S3)', async () => {
    const s3 = await freshBucket(server);
    try {
      const created = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'mpu' }));
      for (let n = 1; n <= 1_003; n += 1) {
        if (n > 3 && n < 1_001) continue;
        await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: 'mpu', UploadId: created.UploadId, PartNumber: n, Body: Buffer.from(`p${n}`) }));
      }
      const parts = await listParts({ client: s3.client, bucket: s3.bucket, prefix: '' }, 'mpu', created.UploadId!);
      expect(parts?.map((p) => p.number)).toEqual([1, 2, 3, 1001, 1002, 1003]);
      await s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: 'mpu', UploadId: created.UploadId }));
      expect(await listParts({ client: s3.client, bucket: s3.bucket, prefix: '' }, 'mpu', created.UploadId!)).toBeUndefined();
    } finally {
      await s3.drop();
    }
  });
});
