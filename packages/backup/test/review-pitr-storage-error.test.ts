/**
 * Review: point-in-time restore while S3 fails a read, on moto and gofakes3 (Redis stream of
 * outbox envelopes, FerretDB). Choosing the snapshot read each candidate's manifest and took
 * any failure for "not a candidate": a 503 on the newest manifest made the restore fall back
 * to an older snapshot, or end with `PitrTargetError` ("no verified snapshot", not retryable)
 * — a passing S3 hiccup reported as a missing backup. Only a manifest that is missing, damaged
 * or of an unknown format is skipped now; an S3 failure is a `StorageError` (retryable), and
 * nothing was written.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, snapshotBackup, streamBackup, verifyBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('point-in-time restore with S3 failing, on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('a 503 on the newest manifest is a StorageError, not another snapshot nor PitrTargetError', async () => {
    const s3 = await freshBucket(server);
    const key = unique('pitr503');
    const [db, restored] = [await freshDb('p503'), await freshDb('p503r')];
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      const app = outboxApp(redis, key, 'orders', db);
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage });
      const snapshot = snapshotBackup({ source: mongoSource({ db }), target: storage, stream: 'orders' });
      const ids: string[] = [];
      for (let round = 0; round < 2; round++) {
        await app.put(`o${round}`, { n: round });
        await stream.run();
        const done = await snapshot.run();
        if (done.status !== 'complete') throw new Error('snapshot did not complete');
        await verifyBackup({ backup: { storage, id: done.backupId }, level: 'full' });
        ids.push(done.backupId);
      }
      const at = Date.now();
      await new Promise((r) => setTimeout(r, 20));
      await stream.run(); // covers `at`
      const failing = {
        async send(command: unknown, options?: unknown) {
          if (command instanceof GetObjectCommand && command.input.Key === `p/backups/${ids[1]}/manifest.json`) {
            throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const error = await pointInTimeRestore({ storage: { ...storage, client: failing }, stream: 'orders', at, target: mongoTarget({ db: restored }) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'StorageError', code: 'BACKUP_STORAGE_FAILED', retryable: true });
      expect(await restored.collection('orders').countDocuments()).toBe(0);
    } finally {
      await redis.del(key);
      await Promise.all([db.dropDatabase(), restored.dropDatabase(), s3.drop()]);
    }
  });
});
