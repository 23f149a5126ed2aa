/**
 * A bucket gone after the store's probe (deleted, or the store pointed at another account's
 * name): S3 answers 404 `NoSuchBucket`, which is not "no lease object" nor a lost race. `get`
 * must not read the key as free, nor `settle` as refused: both pass the error through. On both
 * S3 servers (moto, gofakes3: both answer NoSuchBucket 404 to GET and to a conditional PUT).
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3LeaseStore } from '../src/s3.js';
import { s3Client, token } from './support/backends.js';

describe.each([
  ['moto', 'S3_ENDPOINT'],
  ['gofakes3', 'S3_ALT_ENDPOINT'],
] as const)('an S3 lease store whose bucket is gone, on %s', (_name, variable) => {
  it('passes NoSuchBucket through from get, settle and renew instead of answering "free" or "refused"', async () => {
    const client: S3Client = s3Client(process.env[variable]!);
    const bucket = `lease-gone-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = s3LeaseStore({ client, bucket, prefix: 'l/' });
    const owner = token();
    const claim = await store.claim({ key: 'k', owner, leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: store.objectKey('k') }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    const gone = { name: 'NoSuchBucket' };
    await expect(store.get('k')).rejects.toMatchObject(gone);
    await expect(store.settle({ key: 'k', owner, fence: claim.fence })).rejects.toMatchObject(gone);
    await expect(store.renew({ key: 'k', owner, fence: claim.fence, leaseMs: 1000 })).rejects.toMatchObject(gone);
    await expect(store.claim({ key: 'k', owner: token(), leaseMs: 1000 })).rejects.toMatchObject(gone);
    client.destroy();
  });
});
