/**
 * A job checkpoint's conditional PUT, resent by the AWS SDK: the first attempt reached S3 and
 * was applied, its reply was lost (the socket reset, or a 500 after applying), and the SDK's
 * retry got 412 from the ETag its own first attempt changed. The checkpoint read that as
 * "replaced by another runner" (`FencedError`): the run failed and abandoned its lease
 * although nobody else ran. It now reads the object back and takes its own bytes for its own
 * write. Both S3 emulators behind `test/support/reply-cut-proxy.ts`, FerretDB as the source;
 * a checkpoint replaced by someone else between the run's writes still fences the run.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { FencedError, mongoSource, snapshotBackup, verifyBackup } from '../src/index.js';
import { startReplyCutProxy } from '../../../test/support/reply-cut-proxy.js';
import { closeMongo, dropBucket, freshDb, s3Client, S3_SERVERS, unique } from './support.js';
import { requireService } from '../../../test/services/env.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a job checkpoint PUT applied, its reply lost, resent by the SDK ($name)', (server) => {
  it.each(['cut', 'fail500'] as const)('reply lost by %s: the run completes, not fenced', async (action) => {
    await requireService(server.service);
    const endpoint = new URL(process.env[server.env]!);
    const direct = s3Client(endpoint.origin);
    const bucket = unique('b').replace(/[^a-z0-9-]/g, '').slice(0, 60);
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    const proxy = await startReplyCutProxy(Number(endpoint.port));
    const proxied = s3Client(`http://127.0.0.1:${proxy.port}`);
    const source = await freshDb('cpresend');
    try {
      await source.collection<{ _id: number }>('a').insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i })));
      proxy.on(`PUT /${bucket}/cp/jobs/snapshot/checkpoint.json`, action);
      const storage = { client: proxied, bucket, prefix: 'cp' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(proxy.cuts, 'a checkpoint reply was lost').toBe(1);
      expect(done).toMatchObject({ status: 'complete', records: 100 });
      await expect(verifyBackup({ backup: { storage: { client: direct, bucket, prefix: 'cp' }, id: 'latest' }, level: 'full' })).resolves.toMatchObject({ ok: true });
    } finally {
      proxied.destroy();
      await proxy.close();
      await Promise.all([source.dropDatabase(), dropBucket(direct, bucket)]);
      direct.destroy();
    }
  });

  it('a checkpoint replaced by another writer between the run\'s writes still fences the run', async () => {
    await requireService(server.service);
    const endpoint = new URL(process.env[server.env]!);
    const direct = s3Client(endpoint.origin);
    const bucket = unique('b').replace(/[^a-z0-9-]/g, '').slice(0, 60);
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    const proxy = await startReplyCutProxy(Number(endpoint.port));
    const proxied = s3Client(`http://127.0.0.1:${proxy.port}`);
    const source = await freshDb('cpfenced');
    try {
      await source.collection<{ _id: number }>('a').insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i })));
      const key = 'cp/jobs/snapshot/checkpoint.json';
      // The run's first checkpoint write passes; before its second, another writer replaces it.
      proxy.on(`PUT /${bucket}/${key}`, async () => undefined);
      proxy.on(`PUT /${bucket}/${key}`, async () => {
        await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"someone":"else"}' }));
      });
      const storage = { client: proxied, bucket, prefix: 'cp' };
      const failed = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run().catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(FencedError);
    } finally {
      proxied.destroy();
      await proxy.close();
      await Promise.all([source.dropDatabase(), dropBucket(direct, bucket)]);
      direct.destroy();
    }
  });
});
