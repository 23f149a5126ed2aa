/**
 * Review: a stream backup whose source or storage fails, on moto and gofakes3. The README's
 * errors table promises `SourceReadError` (`BACKUP_SOURCE_FAILED`, retryable) when reading the
 * source fails and `StorageError` (`BACKUP_STORAGE_FAILED`) for S3 failures; stream runs used
 * to reject with the driver's or SDK's own error (its message may carry connection details),
 * which a caller cannot tell apart. Each failure also releases the stream's lease: the retry
 * runs at once, and archives every event once.
 */
import { createServer } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStreamSource, streamBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(S3_SERVERS)('stream backup failures are typed, on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('a source that cannot be read: SourceReadError, lease released', async () => {
    const s3 = await freshBucket(server);
    const key = unique('down');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'err' };
    const down = new Redis({ port: await closedPort(), host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    down.on('error', () => undefined);
    try {
      const failing = streamBackup({ name: 's', source: redisStreamSource({ client: down, key, envelopeField: 'e' }), target: storage });
      const error = await failing.run().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'SourceReadError', code: 'BACKUP_SOURCE_FAILED', retryable: true });
      expect(String((error as Error).message)).not.toContain('127.0.0.1');
      // The lease was released: a run with a working source goes at once.
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 5; i++) await app.put(`a${i}`, { n: i });
      expect(await streamBackup({ name: 's', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage }).run()).toMatchObject({ records: 5, objects: 1 });
    } finally {
      down.disconnect();
      await redis.del(key);
      await s3.drop();
    }
  });

  it('S3 failing on a stream object: StorageError, nothing checkpointed; the retry archives every event once', async () => {
    const s3 = await freshBucket(server);
    const key = unique('s3down');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'err' };
    // The real server for everything but stream-object PUTs, which fail as a 503 would.
    const failingPuts = {
      async send(command: unknown, options?: unknown) {
        if (command instanceof PutObjectCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
          throw Object.assign(new Error('Service Unavailable at http://127.0.0.1 with key AKIA-secret'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
        }
        return s3.client.send(command as never, options as never);
      },
    };
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 5; i++) await app.put(`a${i}`, { n: i });
      const source = redisStreamSource({ client: redis, key, envelopeField: 'e' });
      const error = await streamBackup({ name: 's', source, target: { ...storage, client: failingPuts } }).run().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'StorageError', code: 'BACKUP_STORAGE_FAILED', retryable: true });
      expect(String((error as Error).message)).not.toContain('AKIA-secret');
      expect(await streamBackup({ name: 's', source, target: storage }).run()).toMatchObject({ records: 5, objects: 1 });
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  });
});
