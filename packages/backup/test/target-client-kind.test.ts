/**
 * An `SQSClient` given as the backup target's client has a `send` like an `S3Client`: a
 * duck-type check let it through and every write then failed with SQS's "unknown operation".
 * The target's client is checked by its `config.serviceId` up front (the shared check of
 * `@steadyfn/handler/internal`); a real `S3Client` still passes (every other backup test uses one).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, probeS3, snapshotBackup, redisSource } from '../src/index.js';
import { toLocation } from '../src/target.js';

const sqs = new SQSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
afterAll(() => {
  sqs.destroy();
  s3.destroy();
});

const refused = { name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'target.client' };

describe('the backup target client', () => {
  it('an SQSClient is refused where an S3Client belongs, naming the service it is for', async () => {
    expect(() => snapshotBackup({ source: redisSource({ client: () => { throw new Error('not called'); } }) as never, target: { client: sqs, bucket: 'backups' } })).toThrow(
      expect.objectContaining({ ...refused, message: expect.stringContaining('got a client for SQS') }),
    );
    await expect(probeS3({ client: sqs, bucket: 'backups', prefix: '' })).rejects.toMatchObject(refused);
    await expect(applyRetention({ storage: { client: sqs, bucket: 'backups' }, keepLast: 1 })).rejects.toMatchObject({ ...refused, field: 'storage.client' });
  });

  it('an S3Client passes', () => {
    expect(toLocation('snapshotBackup', { client: s3, bucket: 'backups' })).toMatchObject({ bucket: 'backups', prefix: '' });
  });
});
