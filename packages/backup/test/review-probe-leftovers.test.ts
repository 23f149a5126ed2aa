/**
 * Review: what a start-up probe killed part way leaves, on moto and gofakes3. The probe writes
 * a few objects and one multipart upload under `<prefix>/.probe/<uuidv7>-…` and removes them
 * when it ends; an invocation that dies during it (a timeout on a cold start) left them for
 * ever — nothing swept `.probe/`, and S3 bills an unfinished upload's parts until it is
 * aborted. Retention now removes them once the grace has passed (their time: the UUIDv7 in the
 * key, or `LastModified` if newer), and leaves a probe that may still be running alone.
 */
import { CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { applyRetention } from '../src/index.js';
import { freshBucket, listAll, openUploads, S3_SERVERS } from './support.js';

describe.each(S3_SERVERS)('retention removes a killed probe\'s leftovers, on $name', (server) => {
  it('objects and the unfinished upload of a probe older than the grace; a recent probe is left alone', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pr' };
    try {
      // A run's own probe happens first (and cleans up after itself); then the leftovers of a killed one.
      expect((await applyRetention({ storage })).probeLeftovers).toMatchObject({ objects: 0, uploadsAborted: 0 });
      const old = `pr/.probe/${uuidv7()}`;
      for (const suffix of ['-basic', '-cond', '-mpu']) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${old}${suffix}`, Body: 'probe' }));
      const created = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${old}-mpu` }));
      await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: `${old}-mpu`, UploadId: created.UploadId!, PartNumber: 1, Body: 'x' }));

      // Within the grace (it may be a probe running now): left.
      expect((await applyRetention({ storage })).probeLeftovers).toMatchObject({ objects: 0, uploadsAborted: 0, withinGrace: 4 });
      expect(await listAll(s3.client, s3.bucket, 'pr/.probe/')).toHaveLength(3);
      // A dry run plans; past the grace, the run removes them.
      const later = () => Date.now() + 86_400_000 + 3_600_000;
      expect((await applyRetention({ storage, now: later, dryRun: true })).probeLeftovers).toMatchObject({ objects: 3, uploadsAborted: 1 });
      expect((await applyRetention({ storage, now: later })).probeLeftovers).toMatchObject({ objects: 3, uploadsAborted: 1, withinGrace: 0 });
      expect(await listAll(s3.client, s3.bucket, 'pr/.probe/')).toEqual([]);
      expect((await openUploads(s3.client, s3.bucket)).filter((u) => u.key.startsWith('pr/.probe/'))).toEqual([]);
    } finally {
      await s3.drop();
    }
  });
});
