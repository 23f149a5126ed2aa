/**
 * Review finding (the wrong AWS client): `sqsSender({ claimCheck: s3ClaimCheck({ s3: sqsClient }) })` was
 * accepted — an `SQSClient` has a `send` like an `S3Client` — and every claim check then
 * failed at run time. The same hole was open for `sqsSender({ client })`,
 * `outboxWatchdog({ client })`, `inbox({ s3 })` and `resolveClaimCheck(message, { s3 })`. A
 * client's service is read from the AWS SDK v3 `config.serviceId` and checked up front; an
 * object with `send` that names no service (a test double) is still accepted.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { redisStore } from '@steadyfn/idempotency';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOptionRefused } from '../../../../test/support/config-errors.js';
import { inbox } from '../../src/index.js';
import { outboxWatchdog, sqsSender } from '../../src/sqs.js';
import { resolveClaimCheck, s3ClaimCheck } from '../../src/s3.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:1', { lazyConnect: true });
const sqs = new SQSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
afterAll(() => {
  redis.disconnect();
  sqs.destroy();
  s3.destroy();
});
const queueUrl = 'http://127.0.0.1:1/1/q';
const double = { send: async () => ({}) };

describe('a client of the wrong AWS service is refused up front', () => {
  it('s3ClaimCheck s3 given an SQSClient; client given an S3Client', () => {
    expectOptionRefused(() => s3ClaimCheck({ s3: sqs as never, bucket: 'claims-b' }), 's3ClaimCheck', 's3', ['an S3Client', 'a client for SQS']);
    expectOptionRefused(() => s3ClaimCheck({ s3: sqs as never }), 's3ClaimCheck', 's3', ['an S3Client', 'a client for SQS']);
    expectOptionRefused(() => sqsSender({ client: s3 as never, queueUrl }), 'sqsSender', 'client', ['an SQSClient', 'a client for S3']);
    expectOptionRefused(() => outboxWatchdog({ client: s3 as never, queueUrl }), 'outboxWatchdog', 'client', ['a client for S3']);
    expectOptionRefused(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', claimCheck: { ...s3ClaimCheck({ s3 }), s3: sqs as never } }), 'inbox', 'claimCheck.s3', ['a client for SQS']);
  });

  it('resolveClaimCheck() with an SQSClient as s3 rejects with ConfigurationError', async () => {
    await expect(resolveClaimCheck({ body: 'x', attributes: {} }, { s3: sqs as never })).rejects.toMatchObject({ name: 'ConfigurationError', field: 's3' });
  });

  it('the right clients, and test doubles that name no service, are accepted', () => {
    expect(() => sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket: 'claims-b' }) })).not.toThrow();
    expect(() => sqsSender({ client: double as never, queueUrl, claimCheck: s3ClaimCheck({ s3: double, bucket: 'claims-b' }) })).not.toThrow();
    expect(() => outboxWatchdog({ client: double as never, queueUrl })).not.toThrow();
    expect(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', claimCheck: s3ClaimCheck({ s3: double }) })).not.toThrow();
  });
});

describe('the claim check of 0.0.x (a plain { s3, bucket }, the inbox s3) is refused, naming the new import', () => {
  it('sqsSender({ claimCheck: { s3, bucket } }) and inbox({ s3 }): CONFIG_INVALID naming s3ClaimCheck from @steadyfn/outbox/s3', () => {
    expectOptionRefused(() => sqsSender({ client: sqs, queueUrl, claimCheck: { s3, bucket: 'claims-b' } as never }), 'sqsSender', 'claimCheck', ["s3ClaimCheck({ s3, bucket })", "'@steadyfn/outbox/s3'"]);
    expectOptionRefused(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', s3 } as never), 'inbox', 's3', ['claimCheck: s3ClaimCheck({ s3 })', "'@steadyfn/outbox/s3'"]);
    expectOptionRefused(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', claimCheck: { s3 } as never }), 'inbox', 'claimCheck', ['claimCheck: s3ClaimCheck({ s3 })', "'@steadyfn/outbox/s3'"]);
  });

  it('s3ClaimCheck() checks its own options: a bucket S3 refuses, sqsSender with a reader (no bucket)', () => {
    expectOptionRefused(() => s3ClaimCheck({ s3, bucket: 'Bad_Bucket' }), 's3ClaimCheck', 'bucket', []);
    expectOptionRefused(() => sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3 }) as never }), 'sqsSender', 'claimCheck.bucket', []);
  });
});

