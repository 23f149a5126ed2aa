/**
 * Retention's listings stop at the deadline too, on moto and gofakes3: before each page of a
 * listing (1,000 keys) a run checks `ctx.remainingMs()` against `reserveMs` plus twice the last
 * page's time, as it does before deletes. A stream's objects are swept page by page and the
 * position saved (`retention/streams-cursor.json`): the next run continues after the last key
 * handled, and a run that reaches the end removes the cursor, so the one after starts over. A
 * listing that cannot be judged in part (`backups/`: the policy needs every backup) deletes
 * nothing when cut. The deadline is a clock that moves 100 seconds per page of the listing
 * under test (the reserve: 30 s), so where a run stops is exact: the real time of a page (twice
 * it is kept back too) matters only past 25 s, however slow the machine.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { applyRetention, mongoSource, redisStreamSource, snapshotBackup, streamBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, timeOnlyAtStart, unique, verifiedBackups } from './support.js';

afterAll(closeMongo);

const later = () => Date.now() + 86_400_000 + 3_600_000; // the default grace (24 h) has passed
const HOURS = 35;
const PER_HOUR = 100; // 10 orphans (object 1, behind the checkpoint) and 90 in flight (object 2) per hour

/** A client that counts the ListObjectsV2 pages asked under `prefix` and remembers their StartAfter. */
function countingLists(client: { send(command: unknown, options?: unknown): Promise<unknown> }, prefix: string) {
  const seen: Array<string | undefined> = [];
  return {
    seen,
    client: {
      async send(command: unknown, options?: unknown) {
        if (command instanceof ListObjectsV2Command && String(command.input.Prefix).startsWith(prefix)) seen.push(command.input.StartAfter ?? command.input.ContinuationToken);
        return client.send(command, options);
      },
    },
  };
}

/** Puts `keys` with a few requests in flight. */
async function putAll(client: { send(command: unknown): Promise<unknown> }, bucket: string, keys: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < keys.length) await client.send(new PutObjectCommand({ Bucket: bucket, Key: keys[next++]!, Body: 'x' }));
  }));
}

describe.each(S3_SERVERS)('retention listings under a deadline, on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('a stream of 3,500 unlisted objects: swept page by page, stopped between pages, continued by the next run from its cursor', async () => {
    const s3 = await freshBucket(server);
    const key = unique('pages');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'big' };
    const folder = 'big/streams/orders/';
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 20; i++) await app.put(`a${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage }).run();
      const real = await listAll(s3.client, s3.bucket, `${folder}t`);
      expect(real).toHaveLength(2); // object 1 and its hour's index (checkpoint: seq 1)

      // Unlisted objects in 35 hours of January (they sort before the real hour): per hour 10
      // copies of object 1 (behind the checkpoint: orphans) and 90 of object 2 (ahead: in flight).
      const made: string[] = [];
      for (let h = 0; h < HOURS; h++) {
        const hour = `${folder}t1/2026/01/${String(1 + Math.floor(h / 24)).padStart(2, '0')}/${String(h % 24).padStart(2, '0')}`;
        for (let i = 0; i < PER_HOUR; i++) made.push(`${hour}/${String(i < 10 ? 1 : 2).padStart(12, '0')}_p${String(i).padStart(3, '0')}_q_${'ab'.repeat(6)}.ndjson.gz`);
      }
      await putAll(s3.client, s3.bucket, made);
      made.sort();
      const orphans = made.filter((k) => /\/000000000001_/.test(k));

      const counting = countingLists(s3.client, `${folder}t`);
      const options = { storage: { ...storage, client: counting.client }, now: later, reserveMs: 30_000, orphanBatchSize: 1_000_000 };
      // 280 s left, 100 s per page of the stream, 30 s kept back: pages 1 and 2 are swept whole; page 3
      // is listed (80 s left) but the read of its first hour's index (asked like a page) would end
      // past the reserve, so the run stops there, before judging that hour (its orphans are not
      // counted in `left`); page 4 is never asked for.
      const first = await applyRetention(options, { remainingMs: () => 280_000 - 100_000 * counting.seen.length });
      expect(counting.seen).toHaveLength(3);
      expect(first.stoppedBy).toBe('deadline');
      const cut = made[1_999]!; // the last key of page 2: the first orphan of page 3 is made[2_000]
      expect(first.streamOrphans).toMatchObject({ objects: 200, inFlight: 1_800, left: 0, streamsLeft: 1, resumeAfter: { stream: 'orders', key: cut } });
      // Whole pages (and a page up to its refused index read) were handled: every orphan up to the
      // cut is gone, none after it was touched.
      const after1 = new Set(await listAll(s3.client, s3.bucket, folder));
      expect(orphans.filter((k) => after1.has(k))).toEqual(orphans.filter((k) => k > cut));
      expect(made.filter((k) => !/\/000000000001_/.test(k)).every((k) => after1.has(k))).toBe(true);
      expect(await listAll(s3.client, s3.bucket, 'big/retention/')).toContain('big/retention/streams-cursor.json');

      // Under the reserve once past the start (with none at the start nothing is sent at all):
      // no page is asked for, the cursor stands.
      counting.seen.length = 0;
      const none = await applyRetention(options, timeOnlyAtStart());
      expect(counting.seen).toHaveLength(0);
      // Nor the folder of other policies' passes (named first: it is read first).
      expect(none).toMatchObject({ stoppedBy: 'deadline', left: { listings: ['retention/backups-pass/all/', 'backups/'] }, streamOrphans: { objects: 0, streamsLeft: 1 } });

      // The next run starts after the cursor: pages 3 and 4 (the last 1,500 and the real hour).
      const second = await applyRetention(options, { remainingMs: () => 280_000 - 100_000 * counting.seen.length });
      expect(counting.seen).toHaveLength(2);
      expect(counting.seen[0]).toBe(cut);
      expect(second.stoppedBy).toBeUndefined();
      expect(second.streamOrphans).toMatchObject({ objects: 150, inFlight: 1_350, left: 0, streamsLeft: 0 });
      expect(second.streamOrphans.resumeAfter).toBeUndefined();
      expect(second.left.listings).toEqual([]);
      const after2 = await listAll(s3.client, s3.bucket, folder);
      expect(after2.filter((k) => /\/000000000001_/.test(k) && k.includes('/2026/01/'))).toEqual([]);
      expect(real.every((k) => after2.includes(k))).toBe(true);
      expect(await listAll(s3.client, s3.bucket, 'big/retention/')).toEqual(['big/retention/lease.json']);

      // Finished: the run after starts from the beginning again (four pages, nothing left to delete).
      counting.seen.length = 0;
      const third = await applyRetention(options);
      expect(counting.seen[0]).toBeUndefined();
      expect(counting.seen).toHaveLength(4);
      expect(third.streamOrphans).toMatchObject({ objects: 0, inFlight: 3_150 });
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  }, 240_000);

  it('a listing of backups/ cut by the deadline deletes nothing (the policy needs every backup); the next run applies it', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retlist');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ids' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 2);
      // 1,100 more ids without a manifest (recent: within the grace), so backups/ takes two pages.
      await putAll(s3.client, s3.bucket, Array.from({ length: 1_100 }, (_, i) => `ids/backups/zz-${String(i).padStart(5, '0')}/part`));
      const counting = countingLists(s3.client, 'ids/backups/');
      const options = { storage: { ...storage, client: counting.client }, keepLast: 1, reserveMs: 30_000 };
      const cut = await applyRetention(options, { remainingMs: () => 130_000 - 100_000 * counting.seen.length });
      expect(counting.seen).toHaveLength(1);
      expect(cut).toMatchObject({ stoppedBy: 'deadline', deleted: [], kept: [], left: { listings: ['backups/'] } });
      expect(await listAll(s3.client, s3.bucket, `ids/backups/${ids[0]}/`)).toHaveLength(3);

      const whole = await applyRetention({ ...options, storage });
      expect(whole).toMatchObject({ deleted: [ids[0]], kept: [ids[1]], left: { listings: [] } });
      expect(whole.stoppedBy).toBeUndefined();
      expect(whole.uncommitted).toHaveLength(1_100);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 240_000);
});
