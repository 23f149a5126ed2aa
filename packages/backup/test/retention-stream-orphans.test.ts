/**
 * Retention sweeps stream objects that nothing refers to, on moto and gofakes3 (Redis stream
 * of outbox envelopes as the source). A sink killed (SIGKILL) between writing an object and
 * listing it in its hour's index leaves an object its successor never lists (it re-reads the
 * source into other buffer boundaries: the same object number under another key). Such an
 * object is swept once it is behind the stream's checkpoint and older than `orphanGraceMs`;
 * an object a live sink is listing right now is ahead of the checkpoint and never touched,
 * whatever the grace — checked with the killed sink still alive (paused between its object and
 * its index, lease renewed) and with retention run inside a sink's every write.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { applyRetention, redisStreamSource, streamBackup, type RetentionReport } from '../src/index.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { keys } from '../src/target.js';
import { outboxApp, type OutboxApp } from './outbox-fixture.js';
import { freshBucket, leaseRunsOut, listAll, pausedSink, redisClient, S3_SERVERS, timeOnlyAtStart, unique } from './support.js';

const later = () => Date.now() + 86_400_000 + 3_600_000; // the default grace (24 h) has passed

/** Every event of the stream's current timeline, by id, and how many repeats a replay dropped. */
async function archived(storage: { client: S3Client; bucket: string; prefix: string }, name: string): Promise<{ ids: Set<string>; duplicates: number }> {
  const checkpoint = await loadStreamCheckpoint(storage as never, name);
  const objects = await timelineObjects(storage as never, checkpoint, 1, 0);
  const ids = new Set<string>();
  const replay = await replayObjects(storage as never, objects, async (records) => void records.forEach((r) => ids.add(r.id)));
  return { ids, duplicates: replay.duplicates };
}

async function addEvents(app: OutboxApp, count: number, ids: Set<string>, tag: string): Promise<void> {
  for (let i = 0; i < count; i++) ids.add((await app.put(`${tag}${i % 7}`, { n: i, pad: 'x'.repeat(200) })).id);
}

describe.each(S3_SERVERS)('retention sweeps stream orphans, on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('a sink killed between an object and its index: in flight while it lives, then an orphan swept after the grace', async () => {
    const s3 = await freshBucket(server);
    const key = unique('sweep');
    const name = 'orders';
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'stream' };
    const job = streamBackup({ name, source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 250 }), target: storage, buffer: { maxBytes: 64 * 1024, maxMs: 60_000 }, maxRecords: 250 });
    const events = new Set<string>();
    try {
      const app = outboxApp(redis, key, 'orders');
      await addEvents(app, 40, events, 'a');
      await job.run();
      expect((await loadStreamCheckpoint(storage as never, name)).seq).toBe(1);

      // The sink writes object 2 and stops before listing it (alive: its lease is renewed).
      await addEvents(app, 40, events, 'b');
      const sink = await pausedSink(server, s3.bucket, name, key);
      const unlisted = (await listAll(s3.client, s3.bucket, 'stream/streams/orders/t1/')).filter((k) => /000000000002_.*\.ndjson\.gz$/.test(k));
      expect(unlisted).toHaveLength(1);

      // No grace at all, a clock a day ahead: the live sink's object is still not touched.
      const whileAlive = await applyRetention({ storage, orphanGraceMs: 0, now: later });
      expect(whileAlive.streamOrphans).toMatchObject({ objects: 0, inFlight: 1, leftAlone: [] });
      expect(await listAll(s3.client, s3.bucket, unlisted[0])).toEqual(unlisted);

      await sink.kill();
      await leaseRunsOut(storage, keys.streamLease(name));
      // The next sink reads 60 events (20 more arrived): object 2 again, under another key.
      await addEvents(app, 20, events, 'c');
      await job.run();
      expect((await loadStreamCheckpoint(storage as never, name)).seq).toBe(2);
      const objects2 = (await listAll(s3.client, s3.bucket, 'stream/streams/orders/t1/')).filter((k) => /000000000002_.*\.ndjson\.gz$/.test(k));
      expect(objects2).toHaveLength(2);

      // Behind the checkpoint now, but younger than the grace: left.
      expect((await applyRetention({ storage })).streamOrphans).toMatchObject({ objects: 0, withinGrace: 1, inFlight: 0 });
      expect((await applyRetention({ storage, now: later, dryRun: true })).streamOrphans).toMatchObject({ objects: 1 });
      expect(await listAll(s3.client, s3.bucket, unlisted[0])).toEqual(unlisted);

      // Under the deadline's reserve once started: the stream is not even listed; counted as left.
      const late = await applyRetention({ storage, now: later, reserveMs: 3_000 }, timeOnlyAtStart());
      expect(late).toMatchObject({ stoppedBy: 'deadline', streamOrphans: { objects: 0, streamsLeft: 1 } });
      expect(await listAll(s3.client, s3.bucket, unlisted[0])).toEqual(unlisted);

      // After the grace: swept; what the index lists is whole, every event archived once.
      const swept = await applyRetention({ storage, now: later });
      expect(swept.streamOrphans).toMatchObject({ objects: 1, left: 0, inFlight: 0, withinGrace: 0 });
      expect(await listAll(s3.client, s3.bucket, unlisted[0])).toEqual([]);
      const { ids, duplicates } = await archived(storage, name);
      expect(ids).toEqual(events);
      expect(duplicates).toBe(0);
      expect((await applyRetention({ storage, now: later, orphanGraceMs: 0 })).streamOrphans).toMatchObject({ objects: 0, inFlight: 0 });
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  }, 120_000);

  it('a sink writing while retention runs: retention inside each write (object written, not yet listed; listed, not yet checkpointed) deletes nothing of it', async () => {
    const s3 = await freshBucket(server);
    const key = unique('race');
    const name = 'live';
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'race' };
    const reports: RetentionReport['streamOrphans'][] = [];
    const afterIndex: RetentionReport['streamOrphans'][] = [];
    // The sink's client: right after each stream object is in S3 (before its index entry), and
    // right after each index write (before the checkpoint), a retention run with no grace and a
    // clock a day ahead.
    const racing = {
      async send(command: unknown, options?: unknown) {
        const out = await s3.client.send(command as never, options as never);
        if (command instanceof PutObjectCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
          reports.push((await applyRetention({ storage, orphanGraceMs: 0, now: later })).streamOrphans);
        }
        if (command instanceof PutObjectCommand && String(command.input.Key).endsWith('/index.json')) {
          afterIndex.push((await applyRetention({ storage, orphanGraceMs: 0, now: later })).streamOrphans);
        }
        return out;
      },
    };
    const job = streamBackup({ name, source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 5 }), target: { ...storage, client: racing }, buffer: { maxBytes: 2 * 1024, maxMs: 60_000 }, maxRecords: 5 });
    const events = new Set<string>();
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let round = 0; round < 4; round++) {
        await addEvents(app, 30, events, `r${round}`);
        await job.run();
      }
      expect(reports.length).toBeGreaterThanOrEqual(8);
      // Before the stream's first checkpoint the sink's lease keeps retention out; after, its unlisted object is in flight.
      expect(reports[0]).toMatchObject({ objects: 0, indexes: 0, neverCheckpointed: [], leftAlone: [{ stream: name, reason: 'sink running' }] });
      for (const report of reports.slice(1)) expect(report).toMatchObject({ objects: 0, inFlight: 1, leftAlone: [] });
      // Listed but not checkpointed: the first is kept out by the lease, the others are the index's.
      expect(afterIndex).toHaveLength(reports.length);
      expect(afterIndex[0]).toMatchObject({ objects: 0, indexes: 0, leftAlone: [{ stream: name, reason: 'sink running' }] });
      for (const report of afterIndex.slice(1)) expect(report).toMatchObject({ objects: 0, indexes: 0, inFlight: 0, leftAlone: [] });
      const { ids, duplicates } = await archived(storage, name);
      expect(ids).toEqual(events);
      expect(duplicates).toBe(0);
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  }, 120_000);
});
