/**
 * Retention's sweep of a stream's objects reads, for each hour a listed page holds, that hour's
 * index (`streams/<name>/t<timeline>/…/<hh>/index.json`) to find the objects no index lists
 * (retention-streams.ts). Only the page itself was asked of the run's deadline budget, so a page
 * spanning many hours (up to 1,000 keys) sent every index GET whatever the clock said. Now each
 * hour's index read is asked like a page: the sweep stops before the read that would pass the
 * reserve, reports `stoppedBy: 'deadline'` with the stream's listing in `left.listings`, saves
 * its cursor at the last key of the last hour it handled, and the next run continues from there.
 *
 * Eight hours of a stream, one object each (events whose `occurredAt` lies one to eight hours
 * back), every object listed in its hour's index (nothing to delete), and a clock
 * (`remainingMs`) driven by the number of index GETs the run has made — as
 * retention-checkpoints-deadline.test.ts drives it by checkpoint GETs — that falls under the
 * reserve after three. On both S3 servers (moto, gofakes3) and Redis 7.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { applyRetention, redisStreamSource, streamBackup, type S3Target } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { freshBucket, listAll, redisClient, S3_SERVERS, unique, countingRequests } from './support.js';

const HOUR = 3_600_000;
const HOURS = 8;
/** Index GETs the clock allows before it falls under the reserve. */
const ALLOWED = 3;

describe.each(S3_SERVERS)('retention sweeping a stream of many hours, the deadline reached among their index reads, on $name', (server) => {
  it('stops before the index read that would pass the reserve, saves its cursor there; the next run continues from it', async () => {
    const s3 = await freshBucket(server);
    const redis = await redisClient();
    const key = unique('sir-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    let lag = 0;
    try {
      const app = outboxApp(redis, key, 'orders', undefined, () => new Date(Date.now() - lag));
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
      for (let h = HOURS; h >= 1; h--) {
        lag = h * HOUR;
        await app.put(`e${h}`, { pad: 'x'.repeat(100) });
        await stream.run();
      }
      const keysBefore = await listAll(s3.client, s3.bucket, 'r/streams/orders/t');
      const indexes = keysBefore.filter((k) => k.endsWith('/index.json'));
      expect(indexes).toHaveLength(HOURS);
      expect(keysBefore.filter((k) => k.endsWith('.ndjson.gz'))).toHaveLength(HOURS);

      const counting = countingRequests(s3.client, GetObjectCommand, /^r\/streams\/orders\/t\d+\/.+\/index\.json$/);
      const policy = { storage: { ...storage, client: counting.client }, reserveMs: 3_000 };
      const cut = await applyRetention(policy, { remainingMs: () => (counting.state.count < ALLOWED ? 60_000 : 2_000) });
      // No index read started once the clock was under the reserve (before: all eight were read).
      expect(counting.state.count).toBe(ALLOWED);
      expect(cut).toMatchObject({ stoppedBy: 'deadline', left: { listings: ['streams/orders/t'] }, streamOrphans: { objects: 0, streamsLeft: 1, resumeAfter: { stream: 'orders', key: indexes[ALLOWED - 1] } } });
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(keysBefore);

      // The next run, with time enough, starts after the cursor: only the other hours' indexes are read.
      counting.state.count = 0;
      const next = await applyRetention(policy, { remainingMs: () => 60_000 });
      expect(counting.state.count).toBe(HOURS - ALLOWED);
      expect(next.stoppedBy).toBeUndefined();
      expect(next).toMatchObject({ left: { listings: [] }, streamOrphans: { objects: 0, streamsLeft: 0 } });
      expect(next.streamOrphans.resumeAfter).toBeUndefined();
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(keysBefore);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await s3.drop();
    }
  });
});
