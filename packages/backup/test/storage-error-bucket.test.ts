/**
 * Brief lf item 3, on moto and gofakes3: the `StorageError`s of a stream run, of the public
 * calls' last-resort wrapping (`withStorageErrors` / `storageErrorOf`: restore, verifyBackup,
 * pointInTimeRestore, restoreStream, applyRetention) and of a point-in-time restore's manifest
 * reads did not set `bucket` (the others did). S3 refuses one chosen request (AccessDenied, 403)
 * through a client that passes every other request to the real server.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError, applyRetention, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, snapshotBackup, streamBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique, type Sender } from './support.js';

afterAll(closeMongo);

const accessDenied = () => Object.assign(new Error('AccessDenied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

/** `client`, refusing with AccessDenied the requests `refuse` picks (by command and key or prefix). */
function refusing(client: Sender, refuse: (command: unknown, key: string) => boolean): Sender {
  return {
    send(command: unknown, options?: unknown) {
      const input = (command as { input?: { Key?: string; Prefix?: string } }).input;
      return refuse(command, input?.Key ?? input?.Prefix ?? '') ? Promise.reject(accessDenied()) : client.send(command, options);
    },
  };
}

function expectNamed(error: unknown, bucket: string): void {
  expect(error).toBeInstanceOf(StorageError);
  expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', bucket, s3Error: 'AccessDenied', retryable: false });
  expect((error as Error).message).toContain(`"${bucket}"`);
}

describe.each(S3_SERVERS)('StorageError names the bucket, on $name', (server) => {
  it('a stream run whose object write S3 refuses (stream/run.ts)', async () => {
    const s3 = await freshBucket(server);
    const redis = await redisClient();
    const key = unique('sebstream');
    try {
      await redis.xadd(key, '*', 'n', '1');
      const client = refusing(s3.client, (c, k) => c instanceof PutObjectCommand && k.includes('/streams/') && k.endsWith('.ndjson.gz'));
      const job = streamBackup({ name: 'events', source: redisStreamSource({ client: redis, key }), target: { client: client as never, bucket: s3.bucket, prefix: 'p' } });
      expectNamed(await job.run().catch((e: unknown) => e), s3.bucket);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await s3.drop();
    }
  });

  it('applyRetention whose listing S3 refuses (errors.ts storageErrorOf)', async () => {
    const s3 = await freshBucket(server);
    try {
      const client = refusing(s3.client, (c, prefix) => c instanceof ListObjectsV2Command && prefix.startsWith('p/backups/'));
      expectNamed(await applyRetention({ storage: { client: client as never, bucket: s3.bucket, prefix: 'p' }, keepLast: 1 }).catch((e: unknown) => e), s3.bucket);
    } finally {
      await s3.drop();
    }
  });

  it('a point-in-time restore whose manifest read S3 refuses (restore/pitr-snapshot.ts)', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('sebpitr');
    const to = await freshDb('sebpitrto');
    const redis = await redisClient();
    const key = unique('sebpitr');
    try {
      // A stream (its checkpoint) and a snapshot: the restore gets as far as the snapshots' manifests.
      await redis.xadd(key, '*', 'n', '1');
      await streamBackup({ name: 'events', source: redisStreamSource({ client: redis, key }), target: { client: s3.client, bucket: s3.bucket, prefix: 'p' } }).run();
      await db.collection('a').insertOne({ _id: 1 } as never);
      const done = await snapshotBackup({ source: mongoSource({ db }), target: { client: s3.client, bucket: s3.bucket, prefix: 'p' } }).run();
      expect(done.status).toBe('complete');
      const client = refusing(s3.client, (c, k) => c instanceof GetObjectCommand && k.endsWith('/manifest.json'));
      const error = await pointInTimeRestore({ storage: { client: client as never, bucket: s3.bucket, prefix: 'p' }, stream: 'events', at: new Date(), target: mongoTarget({ db: to }) }).catch((e: unknown) => e);
      expectNamed(error, s3.bucket);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([db.dropDatabase(), to.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
