/**
 * A storm on one stream, in real processes (test/child/stream-child.ts), on both S3 emulators
 * with a Redis stream of outbox envelopes as the source, while the application keeps writing:
 * a sink is SIGKILLed after writing an object it never checkpointed, sink processes race for
 * the stream at once (each refused while another, or the dead one's lease, holds it; one takes
 * over when the lease runs out), another is killed after an object's hourly index. Afterwards
 * (a last sink drains the stream, retention sweeps what no index lists):
 * - one timeline (no gap), the checkpoint's objects numbered 1..n (a number listed twice only
 *   for the sink killed after its index entry: both from the same position, README's repeat);
 * - every event archived, each once (no record lost), and `restoreStream` rebuilds exactly the
 *   application's state;
 * - retention (no orphan grace) removes the dead sinks' unlisted objects and leaves every listed one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { rmSync } from 'node:fs';
import { applyRetention, mongoTarget, redisStreamSource, restoreStream, streamBackup } from '../src/index.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { outboxApp } from './outbox-fixture.js';
import { runChild } from './run-child.js';
import { clearOfHourEnd, closeMongo, freshBucket, freshDb, listAll, pausedSink, redisClient, S3_SERVERS, unique, whenLeaseFree } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('stream storm ($name)', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('killed sinks and racing takeovers while events arrive: objects numbered in order, every event once, restoreStream exact, strays swept', async () => {
    // Up to 91 s: this wait counts in the test's timeout (240 s; 150 s left 59 s for a storm that
    // took 17-26 s on CI and over 120 s on a loaded 2-core machine).
    await clearOfHourEnd(90_000);
    const s3 = await freshBucket(server);
    const key = unique('storm');
    const name = 'orders';
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'stream' };
    const folder = `stream/streams/${name}/`;
    const events = new Set<string>();
    const target = await freshDb('stormstream');
    const { file, dir } = bundleChild(new URL('./child/stream-child.ts', import.meta.url).href);
    const env = { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_STREAM: name, CHILD_KEY: key, KILL_AT: '1000000', CHILD_LEASE_MS: '6000' };
    // Racers hold a 6 s lease (renewed every 2 s): a renewal late by a second on a busy machine
    // must not hand a live racer's stream to another (its next write fenced, not a refusal).
    let writing = true;
    try {
      const app = outboxApp(redis, key, 'orders');
      let n = 0;
      const put = async () => {
        const i = n++;
        events.add((await app.put(`a${i % 37}`, { n: i, pad: 'x'.repeat(300) })).id);
      };
      for (let i = 0; i < 400; i++) await put();
      const writer = (async () => {
        while (writing) {
          for (let i = 0; i < 20; i++) await put();
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      // A sink dies after its second object (written, never checkpointed).
      const first = await pausedSink(server, s3.bucket, name, key, { killAt: 2 });
      await first.kill();
      // Sink processes race for the stream at once, again and again: the dead sink's lease, then each other's.
      const racer = async () => {
        const out = [];
        for (let i = 0, done = 0; i < 16 && done < 2; i++) {
          const child = await runChild(file, env);
          out.push(child);
          if (child.output.includes('done')) done++;
          else await new Promise((r) => setTimeout(r, 300));
        }
        return out;
      };
      const [raced] = await Promise.all([
        Promise.all([racer(), racer()]),
        new Promise((r) => setTimeout(r, 1)),
        // Meanwhile another sink dies after an object's hourly index (listed, not checkpointed).
        // It is killed as soon as it paused: a paused sink renews its lease, so keeping it alive
        // until the racers end would refuse every racer attempt (on a slow machine it can win the
        // lease before any racer finished once).
        // Refused while a racer holds the stream, it tries again (for up to 60 s) until it paused:
        // the scenario must happen, not merely may.
        (async () => {
          await new Promise((r) => setTimeout(r, 3000));
          for (const until = Date.now() + 60_000; ; ) {
            const sink = await pausedSink(server, s3.bucket, name, key, { killAt: 1, pauseAfter: 'index' }).catch((e: Error) => e);
            if (!(sink instanceof Error)) return sink.kill();
            if (!/LeaseHeldError/.test(sink.message) || Date.now() > until) throw sink;
            await new Promise((r) => setTimeout(r, 300));
          }
        })(),
      ]);
      writing = false;
      await writer;
      const runs = raced.flat();
      const outcomes = runs.map((c) => (c.output.includes('done') ? 'done' : c.errors.join(' ')));
      expect(outcomes.filter((o) => o !== 'done' && !o.includes('LeaseHeldError BACKUP_LEASE_HELD')), outcomes.join('|')).toEqual([]);
      expect(outcomes.filter((o) => o === 'done').length).toBeGreaterThan(0);

      // A last sink drains the stream.
      const job = streamBackup({ name, source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 250 }), target: storage, buffer: { maxBytes: 64 * 1024, maxMs: 60_000 }, maxRecords: 250, leaseMs: 1500 });
      await whenLeaseFree(() => job.run({ requestId: 'drain' }));

      const check = async () => {
        const checkpoint = await loadStreamCheckpoint(storage as never, name);
        expect(checkpoint.timelines.map((t) => t.brokenAt !== undefined), 'timelines').toEqual([false]);
        const objects = await timelineObjects(storage as never, checkpoint, 1, 0);
        // Each number 1..n listed; a number listed twice only for the sink killed after its index
        // entry (README: a repeat is dropped by event id on restore), both continuing the same position.
        const seqs = [...new Set(objects.map((o) => o.seq))];
        expect(seqs, 'object numbers').toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        const twice = seqs.filter((seq) => objects.filter((o) => o.seq === seq).length > 1);
        expect(twice.length, 'numbers listed twice').toBeLessThanOrEqual(1);
        for (const seq of twice) expect(new Set(objects.filter((o) => o.seq === seq).map((o) => `${o.prev}>${o.first}`)).size).toBe(1);
        const ids: string[] = [];
        await replayObjects(storage as never, objects, async (records) => void records.forEach((r) => ids.push(r.id)));
        expect(new Set(ids).size, 'distinct events archived').toBe(events.size);
        expect([...events].filter((id) => !ids.includes(id)), 'events lost').toEqual([]);
        return objects;
      };
      const listed = await check();

      const swept = await whenLeaseFree(() => applyRetention({ storage, orphanGraceMs: 0, leaseMs: 1500 }));
      const left = (await listAll(s3.client, s3.bucket, folder)).filter((k) => k.endsWith('.ndjson.gz'));
      expect(left.sort(), JSON.stringify(swept.streamOrphans)).toEqual(listed.map((o) => o.key).sort());
      await check();

      await restoreStream({ storage, stream: name, target: mongoTarget({ db: target }) });
      const docs = await target.collection('orders').find({}).sort({ _id: 1 }).toArray();
      const expected = [...app.state.values()].sort((a, b) => String(a._id).localeCompare(String(b._id)));
      expect(docs).toEqual(expected);
    } finally {
      writing = false;
      rmSync(dir, { recursive: true, force: true });
      await redis.del(key);
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 240_000);
});
