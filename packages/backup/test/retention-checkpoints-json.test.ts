/**
 * A job checkpoint whose body is valid JSON but not an object (`null`, a number, an array, a
 * string) is as unreadable as bad JSON: retention's listing of job checkpoints answers
 * "unreadable" (the stream prune is then left alone) instead of throwing a TypeError. On the
 * real S3 servers (moto, gofakes3).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { listJobCheckpoints } from '../src/retention-checkpoints.js';
import { freshBucket, S3_SERVERS } from './support.js';

describe.each(S3_SERVERS)('job checkpoints that are JSON but not an object, on $name', (server) => {
  it('each makes the listing unreadable (undefined), never a TypeError; a well-formed one is listed', async () => {
    const s3 = await freshBucket(server);
    try {
      const loc = { client: s3.client, bucket: s3.bucket, prefix: 'c' };
      const put = (job: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `c/jobs/${job}/checkpoint.json`, Body: body }));
      await put('good', JSON.stringify({ backupId: '0190-good', updatedAt: new Date().toISOString() }));
      expect((await listJobCheckpoints(loc))?.map((c) => [c.job, c.backupId])).toEqual([['good', '0190-good']]);
      for (const body of ['null', '42', '[]', '"x"', 'true']) {
        await put('odd', body);
        await expect(listJobCheckpoints(loc), body).resolves.toBeUndefined();
      }
    } finally {
      await s3.drop();
    }
  });
});
