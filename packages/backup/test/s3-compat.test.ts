/**
 * What the start-up probe finds on each S3 server, the S3 lease (claim, renew, release,
 * takeover with a higher fence, expiry on the server's clock), and ListParts pagination.
 * Where a server deviates from S3, the assertion says so.
 */
import { CreateMultipartUploadCommand, UploadPartCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { LeaseStore } from '@steadyfn/lease';
import { describe, expect, it } from 'vitest';
import { probeS3, s3LeaseStore } from '../src/index.js';
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

  it('lease (the @steadyfn/lease interface): one owner at a time, renew keeps the fence, takeover after expiry raises it', async () => {
    const s3 = await freshBucket(server);
    try {
      const store = s3LeaseStore({ client: s3.client, bucket: s3.bucket, prefix: 'l' }, { ifMatch: true, ifNoneMatch: true });
      const leases: LeaseStore = store; // the primitive's interface, checked by the compiler
      const first = await leases.claim({ key: 'job', owner: 'a', leaseMs: 1_500 });
      expect(first).toMatchObject({ claimed: true, fence: 1 });
      expect(await leases.claim({ key: 'job', owner: 'b', leaseMs: 1_500 })).toMatchObject({ claimed: false, record: { state: 'held', owner: 'a', fence: 1 } });
      expect(await store.renew({ key: 'job', owner: 'a', fence: 1, leaseMs: 1_500 })).toBe(true);
      await new Promise((r) => setTimeout(r, 2_100)); // S3's Date header has 1 s resolution
      expect(await leases.claim({ key: 'job', owner: 'b', leaseMs: 1_500 })).toMatchObject({ claimed: true, fence: 2 });
      expect(await leases.settle({ key: 'job', owner: 'a', fence: 1 })).toBe(false); // fenced off
      expect(await store.renew({ key: 'job', owner: 'a', fence: 1, leaseMs: 1_500 })).toBe(false);
      expect(await leases.settle({ key: 'job', owner: 'b', fence: 2, data: 'done', keepMs: 60_000 })).toBe(true);
      expect(await leases.get('job')).toMatchObject({ state: 'done', fence: 2, data: 'done' });
      expect(await leases.claim({ key: 'job', owner: 'c', leaseMs: 1_500 })).toMatchObject({ claimed: false, record: { state: 'done' } });
      expect(await leases.claimMany([{ key: 'm1', owner: 'x', leaseMs: 5_000 }, { key: 'm2', owner: 'x', leaseMs: 5_000 }])).toMatchObject([{ claimed: true, fence: 1 }, { claimed: true, fence: 1 }]);
      expect(await leases.settleMany([{ key: 'm1', owner: 'x', fence: 1 }, { key: 'm2', owner: 'y', fence: 1 }])).toEqual([true, false]);
      expect(await leases.get('m1')).toBeUndefined(); // released reads as absent
      // Two claims racing for a free key: exactly one wins.
      const race = await Promise.all([leases.claim({ key: 'race', owner: 'x', leaseMs: 5_000 }), leases.claim({ key: 'race', owner: 'y', leaseMs: 5_000 })]);
      expect(race.filter((r) => r.claimed)).toHaveLength(1);
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
