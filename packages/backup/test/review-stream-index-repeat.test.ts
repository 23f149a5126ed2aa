/**
 * Review (stream side): a sink SIGKILLed (a real child process, test/child/stream-child.ts)
 * after it listed object 2 in its hourly index but before its checkpoint moved past it. The
 * next sink reads the source again from the checkpoint — more events have arrived, so object 2
 * holds other records and gets another key — and lists it too: the index listed number 2
 * twice. Restores stayed exact (the repeat dropped by event id), but retention kept the dead
 * sink's object for as long as the hour was kept (it was listed, so never an orphan). Now the
 * resumed run removes the dead entry once its checkpoint names its own (`removed`), and an
 * index that still lists both (an older version's, put back by the test: `left-listed`) is read
 * without the entry off the chain; either way retention sweeps the dead object and a replay
 * reads one object per number. Redis (:16379), both S3 servers.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, redisStreamSource, streamBackup } from '../src/index.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { keys } from '../src/target.js';
import { outboxApp } from './outbox-fixture.js';
import { clearOfHourEnd, freshBucket, leaseRunsOut, listAll, pausedSink, redisClient, S3_SERVERS, unique } from './support.js';

describe.each(S3_SERVERS)('a sink killed after its index entry, on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it.each(['removed', 'left-listed'] as const)('the dead entry %s: one entry per number read, retention sweeps the dead object, every event once', async (variant) => {
    await clearOfHourEnd(90_000);
    const s3 = await freshBucket(server);
    const key = unique('repeat');
    const name = 'orders';
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'stream' };
    const folder = `stream/streams/${name}/`;
    const events = new Set<string>();
    const job = streamBackup({ name, source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 250 }), target: storage, buffer: { maxBytes: 64 * 1024, maxMs: 60_000 }, maxRecords: 250 });
    try {
      const app = outboxApp(redis, key, 'orders');
      const put = async (n: number, tag: string) => {
        for (let i = 0; i < n; i++) events.add((await app.put(`${tag}${i % 7}`, { n: i, pad: 'x'.repeat(100) })).id);
      };
      await put(20, 'a');
      await job.run();
      await put(20, 'b');
      // Object 2 written and listed, never checkpointed: the sink dies there.
      const sink = await pausedSink(server, s3.bucket, name, key, { pauseAfter: 'index' });
      await sink.kill();
      const dead = (await listAll(s3.client, s3.bucket, folder)).filter((k) => /\/000000000002_.*\.ndjson\.gz$/.test(k));
      expect(dead).toHaveLength(1);
      const indexKey = (await listAll(s3.client, s3.bucket, folder)).find((k) => k.endsWith('/index.json'))!;
      const readIndex = async () => JSON.parse(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: indexKey }))).Body!.transformToString()) as { objects: Array<Record<string, unknown> & { key: string; seq: number }> };
      const deadEntry = (await readIndex()).objects.find((o) => o.seq === 2)!;
      expect((await readIndex()).objects.map((o) => o.seq)).toEqual([1, 2]);

      // More events arrived: the next sink's object 2 holds other records (another key).
      await put(10, 'c');
      await leaseRunsOut(storage, keys.streamLease(name));
      await job.run();
      if (variant === 'left-listed') {
        // The dead entry still listed, as an older version left it (or a sink killed again
        // between its checkpoint and the removal): read past, off the chain.
        const both = await readIndex();
        both.objects.push(deadEntry);
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: indexKey, Body: JSON.stringify(both) }));
      }
      const index = await readIndex();
      // Retention: the dead object is no longer listed, so it is swept; every listed one stays.
      await applyRetention({ storage, orphanGraceMs: 0 });
      const left = (await listAll(s3.client, s3.bucket, folder)).filter((k) => k.endsWith('.ndjson.gz'));
      expect.soft(left, 'objects retention left').not.toContain(dead[0]);
      const listed = index.objects.filter((o) => o.key !== dead[0]);
      expect(listed.map((o) => o.seq)).toEqual([1, 2]);
      if (variant === 'removed') expect.soft(index.objects.map((o) => o.seq), 'object numbers the index lists').toEqual([1, 2]);
      expect(left.sort()).toEqual(listed.map((o) => o.key).sort());

      const checkpoint = await loadStreamCheckpoint(storage as never, name);
      expect(checkpoint.seq).toBe(2);
      const objects = await timelineObjects(storage as never, checkpoint, 1, 0);
      expect(objects.map((o) => o.key)).toEqual(listed.map((o) => o.key));
      const ids: string[] = [];
      const replay = await replayObjects(storage as never, objects, async (records) => void records.forEach((r) => ids.push(r.id)));
      expect(new Set(ids)).toEqual(events);
      expect(replay.duplicates).toBe(0);
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  }, 120_000);
});
