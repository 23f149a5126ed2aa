/**
 * Retention prunes the stream objects no kept snapshot needs, but the stream's checkpoint (the
 * sink's) keeps listing their hours: `restoreStream` of a pruned timeline must say it was pruned
 * by retention (`StreamPrunedError`, with the range), not that an index is missing. On both S3
 * servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { BackupIncompleteError, StreamPrunedError, applyRetention, mongoSource, mongoTarget, redisStreamSource, restoreStream, snapshotBackup, streamBackup, verifyBackup, type SnapshotResult } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('restoreStream of a range retention pruned, on $name', (server) => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let key: string;
  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(server);
    source = await freshDb('prunedsrc');
    key = unique('pruned-outbox');
  });
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
    await source.dropDatabase();
    await s3.drop();
  });

  it('is a StreamPrunedError naming the pruned range; the kept timeline still restores', async () => {
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pruned' };
    const app = outboxApp(redis, key, 'orders', source);
    const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
    const snapshot = snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders' });
    const verifiedSnapshot = async (): Promise<string> => {
      const r = (await snapshot.run()) as SnapshotResult;
      if (r.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: r.backupId }, level: 'full' });
      return r.backupId;
    };
    // Timeline 1: a few objects, then a snapshot marked on it.
    for (let i = 0; i < 6; i++) await app.put(`a${i}`, { phase: 'a', pad: 'x'.repeat(300) });
    await stream.run();
    await verifiedSnapshot();
    // Events lost before the sink saw them: the timeline breaks; timeline 2 and a snapshot on it.
    for (let i = 0; i < 3; i++) await app.put(`lost${i}`, { phase: 'lost' });
    await redis.xtrim(key, 'MAXLEN', 0);
    await app.put('b0', { phase: 'b' });
    await stream.run();
    await verifiedSnapshot();
    // A change after it: timeline 2's hour reaches past the kept snapshot's mark, so it stays.
    await app.put('b1', { phase: 'b' });
    await stream.run();
    const before = await restoreStream({ storage, stream: 'orders', timeline: 1, target: mongoTarget({ db: await freshDb('prunedbefore') }) });
    expect(before.objects).toBeGreaterThan(0);

    const applied = await applyRetention({ storage, keepLast: 1, stream: 'orders' });
    expect(applied.deleted).toHaveLength(1);
    expect(applied.streamObjects).toBe(before.objects);

    const target = await freshDb('prunedafter');
    const error = await restoreStream({ storage, stream: 'orders', timeline: 1, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamPrunedError);
    expect(error).not.toBeInstanceOf(BackupIncompleteError);
    expect(error).toMatchObject({ code: 'BACKUP_STREAM_PRUNED', retryable: false, range: { timeline: 1, firstSeq: 1, lastSeq: before.objects }, prunedThrough: { timeline: 1, seq: before.objects } });
    expect((error as Error).message).toMatch(/pruned by retention/);
    expect(await target.listCollections().toArray()).toEqual([]);
    // The current timeline was not pruned (it began at the break: a partial state, opted into).
    const kept = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }), allowPartial: true });
    expect(kept).toMatchObject({ timeline: 2, partial: true });
    expect(kept.objects).toBeGreaterThan(0);
    await target.dropDatabase();
  });
});
