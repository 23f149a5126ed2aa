/**
 * Streams whose sink died before its first checkpoint, on moto and gofakes3 (Redis stream of
 * outbox envelopes as the source). Nothing refers to such a stream's objects (restores start
 * from the checkpoint) and nothing of them was acknowledged to the source (acks follow the
 * checkpoint): the next sink reads the same records again. Retention sweeps them — hourly
 * indexes first, then objects — once every key of the stream is `orphanGraceMs` old and it
 * holds the stream's lease itself (so no sink can be writing). A sink still alive (paused
 * between its object and its index, or between its index and its checkpoint, lease renewed)
 * keeps everything, whatever the grace; the sink run after the sweep archives every event once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { applyRetention, redisStreamSource, streamBackup } from '../src/index.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { keys } from '../src/target.js';
import { outboxApp } from './outbox-fixture.js';
import { freshBucket, leaseRunsOut, listAll, pausedSink, redisClient, S3_SERVERS, timeOnlyAtStart, unique } from './support.js';

const later = () => Date.now() + 86_400_000 + 3_600_000; // the default grace (24 h) has passed

describe.each(S3_SERVERS)('retention sweeps streams that never checkpointed, on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it.each(['object', 'index'] as const)('a first sink killed after its %s: kept while it lives and within the grace, then swept; the next sink archives every event once', async (pauseAfter) => {
    const s3 = await freshBucket(server);
    const key = unique('nockpt');
    const name = 'orders';
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'stream' };
    const folder = `stream/streams/${name}/`;
    const events = new Set<string>();
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 40; i++) events.add((await app.put(`a${i % 7}`, { n: i, pad: 'x'.repeat(200) })).id);
      // Its lease (6 s, renewed every 2 s) must not run out while this test judges it alive: a
      // 1.5 s one left a busy machine 1 s for a late renewal before retention could take it.
      const sink = await pausedSink(server, s3.bucket, name, key, { pauseAfter, leaseMs: 6_000 });
      const written = (await listAll(s3.client, s3.bucket, folder)).filter((k) => !k.endsWith('lease.json'));
      expect(written.filter((k) => k.endsWith('.ndjson.gz'))).toHaveLength(1);
      expect(written.filter((k) => k.endsWith('index.json'))).toHaveLength(pauseAfter === 'index' ? 1 : 0);
      expect(written.some((k) => k.endsWith('checkpoint.json'))).toBe(false);

      // The sink lives (it holds the stream's lease): nothing is touched, whatever the grace and the clock.
      const whileAlive = await applyRetention({ storage, orphanGraceMs: 0, now: later });
      expect(whileAlive.streamOrphans).toMatchObject({ objects: 0, indexes: 0, neverCheckpointed: [], leftAlone: [{ stream: name, reason: 'sink running' }] });
      expect(await listAll(s3.client, s3.bucket, folder)).toEqual(expect.arrayContaining(written));

      await sink.kill();
      await leaseRunsOut(storage, keys.streamLease(name));

      // Dead, but written less than the grace ago: kept and counted.
      const young = await applyRetention({ storage });
      expect(young.streamOrphans).toMatchObject({ objects: 0, indexes: 0, withinGrace: 1, leftAlone: [{ stream: name, reason: 'never checkpointed, written within the grace period' }] });
      // A dry run plans the sweep and deletes nothing.
      expect((await applyRetention({ storage, now: later, dryRun: true })).streamOrphans).toMatchObject({ objects: 1, indexes: pauseAfter === 'index' ? 1 : 0, neverCheckpointed: [name] });
      // Under the deadline's reserve once started: the sweep not started, counted as left.
      const late = await applyRetention({ storage, now: later, reserveMs: 3_000 }, timeOnlyAtStart());
      expect(late).toMatchObject({ stoppedBy: 'deadline', streamOrphans: { objects: 0, streamsLeft: 1 } });
      expect(await listAll(s3.client, s3.bucket, folder)).toEqual(expect.arrayContaining(written));

      // After the grace: the index and the object are swept; the stream's lease object stays (its fence only grows).
      const swept = await applyRetention({ storage, now: later });
      expect(swept.streamOrphans).toMatchObject({ objects: 1, indexes: pauseAfter === 'index' ? 1 : 0, neverCheckpointed: [name], left: 0, leftAlone: [] });
      expect(await listAll(s3.client, s3.bucket, folder)).toEqual([`${folder}lease.json`]);
      expect((await applyRetention({ storage, now: later, orphanGraceMs: 0 })).streamOrphans).toMatchObject({ objects: 0, indexes: 0, neverCheckpointed: [] });

      // The next sink reads 50 events (10 more arrived: other buffer boundaries, another key) and
      // archives each once; its index lists only its own object.
      for (let i = 0; i < 10; i++) events.add((await app.put(`b${i}`, { n: i })).id);
      const job = streamBackup({ name, source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 250 }), target: storage, buffer: { maxBytes: 64 * 1024, maxMs: 60_000 }, maxRecords: 250 });
      await job.run();
      const checkpoint = await loadStreamCheckpoint(storage as never, name);
      expect(checkpoint.seq).toBe(1);
      const objects = await timelineObjects(storage as never, checkpoint, 1, 0);
      expect(objects).toHaveLength(1);
      const ids = new Set<string>();
      const replay = await replayObjects(storage as never, objects, async (records) => void records.forEach((r) => ids.add(r.id)));
      expect(ids).toEqual(events);
      expect(replay.duplicates).toBe(0);
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  }, 120_000);
});
