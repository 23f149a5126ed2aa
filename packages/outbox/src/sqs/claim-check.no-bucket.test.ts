/**
 * A claim-check pointer naming a bucket that does not exist for the reader's S3 client (deleted,
 * or the client reaches another account, region or endpoint than the producer's): S3 answers 404
 * `NoSuchBucket`, which is a configuration fault, not a lost object — `OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET`
 * naming the bucket (before, `OUTBOX_SQS_CLAIM_CHECK_MISSING`, "object … is missing"). A missing key
 * in a bucket that exists stays `…_MISSING`. On moto and gofakes3, through `resolveClaimCheck`
 * and the inbox's reader (`readClaimChecked`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { createBucket, s3Client } from '../../test/sqs-servers.js';
import { resolveClaimCheck } from '../s3.js';
import { readClaimChecked } from './claim-check-read.js';

const servers = [
  { name: 'moto', endpoint: process.env.S3_ENDPOINT },
  { name: 'gofakes3', endpoint: process.env.S3_ALT_ENDPOINT },
] as const;

/** A received claim-checked message (a Lambda record's shape) whose pointer names `bucket`/`key`. */
const pointing = (bucket: string, key: string) => ({
  body: JSON.stringify({ claimCheck: 1, bucket, key, size: 5, sha256: createHash('sha256').update('hello').digest('hex') }),
  messageAttributes: { 'steadyfn.claimCheck': { stringValue: '1' } },
});

describe.each(servers)('a claim-check pointer naming a bucket that does not exist, on $name', ({ endpoint }) => {
  const s3 = s3Client(endpoint);
  afterAll(() => s3.destroy());

  it('is OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET naming the bucket (500, not retryable, the deployment\'s: kind reader), not …_MISSING', async () => {
    const gone = `no-such-bucket-${randomUUID().slice(0, 8)}`;
    const message = pointing(gone, 'claims/e1');
    const expected = {
      name: 'ClaimCheckError',
      code: 'OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET',
      kind: 'reader',
      status: 500,
      retryable: false,
      message: expect.stringContaining(`"${gone}"`),
      logFields: { bucket: gone },
    };
    await expect(resolveClaimCheck(message, { s3 })).rejects.toMatchObject(expected);
    const reader = { s3, commands: () => import('@aws-sdk/client-s3') };
    await expect(readClaimChecked(message, reader, undefined, () => new Error('no reader'))).rejects.toMatchObject(expected);
  });

  it('a missing key in a bucket that exists is still OUTBOX_SQS_CLAIM_CHECK_MISSING', async () => {
    const bucket = await createBucket(s3, 'claims-nb');
    try {
      await expect(resolveClaimCheck(pointing(bucket, 'claims/absent'), { s3 })).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_MISSING', kind: 'object', status: 500 });
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
  });
});
