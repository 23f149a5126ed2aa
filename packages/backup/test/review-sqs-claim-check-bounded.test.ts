/**
 * `sqsSource` reads a claim-check object no further than its pointer's `size` (moto S3): a forged
 * pointer, or an object swapped for a huge one, must not make a backup run load the object whole
 * (an out-of-memory crash, the message redelivered, the next run crashing the same way). The
 * bytes the reader pulls out of GetObject bodies are counted at the client (the server and SDK
 * are real; only the body is wrapped, one chunk at a time, so that what is counted is what the
 * reader asked for). A second client plays a server that ignores `Range` and whose
 * `Content-Length` lies: the bounded body read is then the guard left.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { CLAIM_CHECK_ATTRIBUTE, readSqsBody } from '../src/stream/sources/sqs-claim-check.js';
import { freshBucket, S3_SERVERS } from './support.js';
import { countGetObjects } from '../../../test/support/s3-get-counts.js';

const FIVE_MB = 5 * 1024 * 1024;
const LIMIT = 256 * 1024;

function pointerMessage(bucket: string, key: string, size: number, sha256: string) {
  return { Body: JSON.stringify({ claimCheck: 1, bucket, key, size, sha256 }), MessageAttributes: { [CLAIM_CHECK_ATTRIBUTE]: { StringValue: '1' } } };
}

describe('sqsSource reads a claim-check object no further than its pointer says (moto S3)', () => {
  it.each([
    { server: 'honest (Range honoured, Content-Range told)', lie: undefined },
    { server: 'lying (Range ignored, Content-Length says 100)', lie: { length: 100 } },
  ])('a 5 MB object behind a pointer of size 100 is BACKUP_SQS_CLAIM_CHECK_MISMATCH with under 256 KiB read; server $server', async ({ lie }) => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    try {
      const huge = Buffer.alloc(FIVE_MB, 0x61);
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'claims/huge', Body: huge }));
      const count = countGetObjects(s3.client, { lie });
      const read = await readSqsBody(pointerMessage(s3.bucket, 'claims/huge', 100, 'a'.repeat(64)), { s3: s3.client }, undefined);
      expect(count.bodyBytes).toBeLessThan(LIMIT);
      expect(read).toMatchObject({ ok: false, code: 'BACKUP_SQS_CLAIM_CHECK_MISMATCH' });
      if (read.ok) throw new Error('unreachable');
      expect(read.reason).toBe(lie ? 'claim-check object claims/huge has more than 100 bytes, the pointer says 100' : `claim-check object claims/huge has ${FIVE_MB} bytes, the pointer says 100`);
    } finally {
      await s3.drop();
    }
  });

  it('an object of exactly the pointer size and hash is read whole (the range asks for all of it)', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    try {
      const text = 'é'.repeat(50);
      const bytes = Buffer.from(text, 'utf8');
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'claims/exact', Body: bytes }));
      const count = countGetObjects(s3.client);
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect(await readSqsBody(pointerMessage(s3.bucket, 'claims/exact', bytes.length, sha), { s3: s3.client }, undefined)).toEqual({ ok: true, text });
      expect(count.bodyBytes).toBe(bytes.length);
    } finally {
      await s3.drop();
    }
  });
});
