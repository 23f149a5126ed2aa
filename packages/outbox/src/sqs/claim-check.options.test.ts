import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { memoryStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { inbox } from '../inbox.js';
import { resolveClaimCheck, s3ClaimCheck } from '../s3.js';
import { sqsSender } from './sender.js';

// Pure option checks: no request is sent (clients are made, never used).
const s3 = new S3Client({ region: 'us-east-1' });
const sqs = new SQSClient({ region: 'us-east-1' });
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';

function refusal(fn: () => unknown): { name: string; code: string; field: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as never;
  }
  throw new Error('no error');
}

describe('s3ClaimCheck() and resolveClaimCheck() options', () => {
  it.each([undefined, null, 'x'])('s3ClaimCheck(%s) is a ConfigurationError naming "options"', (options) => {
    expect(refusal(() => s3ClaimCheck(options as never))).toMatchObject({
      name: 'ConfigurationError',
      code: 'CONFIG_INVALID',
      field: 'options',
      issues: [{ field: 'options', expected: 'an object { s3, bucket?, prefix?, thresholdBytes? }' }],
    });
  });

  it('resolveClaimCheck(message, null) rejects with a ConfigurationError naming "options"', async () => {
    await expect(resolveClaimCheck({ body: 'x' }, null as never)).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'options' });
  });

  it('a reader (no bucket) refuses prefix and thresholdBytes: they only say how to store', () => {
    expect(refusal(() => s3ClaimCheck({ s3, prefix: 'p/' } as never))).toMatchObject({ code: 'CONFIG_INVALID', field: 'prefix' });
    expect(refusal(() => s3ClaimCheck({ s3, thresholdBytes: 0 } as never))).toMatchObject({ code: 'CONFIG_INVALID', field: 'thresholdBytes' });
    expect(s3ClaimCheck({ s3 }).commands).toBeTypeOf('function');
    expect(s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix: 'p/', thresholdBytes: 0 }).bucket).toBe('claims-bucket');
  });
});

describe('a claim check given the 0.0.x way: the refusal says what arrived', () => {
  const inboxWith = (claimCheck: unknown) => refusal(() => inbox({ store: memoryStore(), consumer: 'c', claimCheck: claimCheck as never }));
  const senderWith = (claimCheck: unknown) => refusal(() => sqsSender({ client: sqs, queueUrl, claimCheck: claimCheck as never }));

  it('an S3Client passed directly is named as one, with how to wrap it', () => {
    const error = inboxWith(s3);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'claimCheck' });
    expect(error.message).toMatch(/got an S3 client itself: wrap it, s3ClaimCheck\(\{ s3 \}\)$/);
    expect(senderWith(s3).message).toMatch(/got an S3 client itself: wrap it, s3ClaimCheck\(\{ s3, bucket \}\)$/);
    expect(refusal(() => inbox({ store: memoryStore(), consumer: 'c', s3 } as never)).message).toMatch(/got an S3 client itself: wrap it, s3ClaimCheck\(\{ s3 \}\)$/);
  });

  it('another client, null, a broken reader and a plain object are each described as they are, never by value', () => {
    expect(inboxWith(sqs).message).toMatch(/got a client for SQS \(its config.serviceId is "SQS"\), not a claim check$/);
    expect(inboxWith(null).message).toMatch(/got null$/);
    expect(inboxWith({ s3: 'secret-value', commands: async () => ({}) }).message).toMatch(/got an object with commands whose "s3" is a string, not an S3Client$/);
    expect(inboxWith({ s3: 'secret-value', commands: async () => ({}) }).message).not.toContain('secret-value');
    expect(senderWith({ s3, bucket: 'claims-bucket' }).message).toMatch(/got an object with s3 but without commands \(a plain \{ s3, \.\.\. \}, not made by s3ClaimCheck\)$/);
    expect(senderWith({ bucket: 'claims-bucket' }).message).toMatch(/got an object without s3 or commands$/);
  });
});
