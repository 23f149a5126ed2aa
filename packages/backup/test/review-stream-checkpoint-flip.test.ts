/**
 * Attack: the stream checkpoint (`streams/<name>/checkpoint.json`) edited so that it stays valid
 * JSON of the right shape — an object number, an hour's range, the timeline, the resume
 * position, the hour list cut short. It is outside bytes (anyone with access to the bucket, a
 * bad disk), and unlike a manifest it had no checksum: every reader took it as it came.
 *
 * After each edit, against the real operations:
 * - `restoreStream` refuses with a typed `BackupError`, nothing written, or restores exactly;
 * - the sink (`streamBackup().run()`, resuming from it) refuses with a typed `BackupError` and
 *   writes nothing over it, or afterwards no object number of the timeline is written twice
 *   and the stream restores every record (none skipped);
 * - retention (`keepLast: 1`, `stream`) deletes no stream object a kept snapshot still needs.
 * A checkpoint without a self-checksum (written before there was one) is still read, checked
 * for consistency only, and saved with one by the next sink run.
 * Every edit is tried (soft assertions: one failure does not hide the next).
 * On both S3 servers (moto, gofakes3); Redis 7 as the source, FerretDB as source and target.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, BackupError, mongoTarget, redisStreamSource, restoreStream, streamBackup } from '../src/index.js';
import type { StreamCheckpoint } from '../src/stream/checkpoint.js';
import { hourIndexSchema } from '../src/stream/objects.js';
import { prunableStream } from './damaged-stream-fixture.js';
import { outboxApp } from './outbox-fixture.js';
import { clearOfHourEnd, closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const HOUR = 3_600_000;

async function text(client: S3Client, bucket: string, key: string): Promise<string> {
  return (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

async function put(client: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** An edit of the checkpoint (3 objects on timeline 1, in one hour); `ids` are the source ids of the 5 events not yet archived. */
const EDITS: Array<{ what: string; edit: (c: StreamCheckpoint, ids: string[]) => void }> = [
  { what: 'seq 3 → 2', edit: (c) => void (c.seq = 2) },
  { what: 'seq 3 → 4', edit: (c) => void (c.seq = 4) },
  { what: 'hours[0].lastSeq 3 → 2', edit: (c) => void (c.hours[0]!.lastSeq = 2) },
  { what: 'hours[0].lastSeq 3 → 4', edit: (c) => void (c.hours[0]!.lastSeq = 4) },
  { what: 'hours[0].firstSeq 1 → 2', edit: (c) => void (c.hours[0]!.firstSeq = 2) },
  { what: 'hours[0].hour one hour earlier', edit: (c) => void (c.hours[0]!.hour -= HOUR) },
  { what: 'hours[0].timeline 1 → 2', edit: (c) => void (c.hours[0]!.timeline = 2) },
  { what: 'timeline 1 → 2', edit: (c) => void (c.timeline = 2) },
  { what: 'hours cut to none', edit: (c) => void (c.hours = []) },
  { what: 'position moved past 3 unarchived events', edit: (c, ids) => void (c.position = ids[2]!) },
  { what: 'position moved back to the start', edit: (c) => void (c.position = '0-1') },
];

/** A fresh bucket and database, a Redis stream key, and the sink and restore over them (prefix `fc`). */
async function checkpointRig(server: (typeof S3_SERVERS)[number], redis: Redis, name: string) {
  const s3 = await freshBucket(server);
  const key = unique(name);
  const target = await freshDb(name);
  const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fc' };
  return {
    s3,
    key,
    target,
    storage,
    checkpointKey: 'fc/streams/orders/checkpoint.json',
    job: () => streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage }),
    restoreInto: () => restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) }),
    cleanup: async () => {
      await redis.del(key);
      await Promise.all([target.dropDatabase(), s3.drop()]);
    },
  };
}

describe.each(S3_SERVERS)('an edited stream checkpoint ($name)', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('restore and the resuming sink refuse typed, or lose, skip and duplicate nothing', async () => {
    await clearOfHourEnd(); // every stream's objects must fall in one hour
    for (const { what, edit } of EDITS) {
      const { s3, key, target, checkpointKey, job, restoreInto, cleanup } = await checkpointRig(server, redis, 'flipckpt');
      try {
        const app = outboxApp(redis, key, 'orders');
        for (let run = 0; run < 3; run++) {
          for (let i = 0; i < 5; i++) await app.put(`k${run}-${i}`, { n: i, run });
          await job().run();
        }
        for (let i = 0; i < 5; i++) await app.put(`k3-${i}`, { n: i, run: 3 });
        const ids = (await redis.xrange(key, '-', '+')).slice(15).map(([id]) => id);
        const original = await text(s3.client, s3.bucket, checkpointKey);
        const checkpoint = JSON.parse(original) as StreamCheckpoint;
        expect(checkpoint).toMatchObject({ timeline: 1, seq: 3, hours: [{ timeline: 1, firstSeq: 1, lastSeq: 3 }] });
        edit(checkpoint, ids);
        const damaged = JSON.stringify(checkpoint);
        await put(s3.client, s3.bucket, checkpointKey, damaged);

        const restored: unknown = await restoreInto().catch((e: unknown) => e);
        if (restored instanceof Error) {
          expect.soft(restored, `${what}: restore`).toBeInstanceOf(BackupError);
          expect.soft(await target.listCollections().toArray(), `${what}: nothing restored`).toEqual([]);
        } else {
          expect.soft(restored, `${what}: restore`).toMatchObject({ changes: 15 });
          await target.dropDatabase();
        }

        const resumed: unknown = await job().run().catch((e: unknown) => e);
        if (resumed instanceof Error) {
          expect.soft(resumed, `${what}: sink`).toBeInstanceOf(BackupError);
          expect.soft(await text(s3.client, s3.bucket, checkpointKey), `${what}: checkpoint left as it was`).toBe(damaged);
          continue;
        }
        const indexes = (await listAll(s3.client, s3.bucket, 'fc/streams/orders/t')).filter((k) => k.endsWith('/index.json'));
        const seqs: string[] = [];
        for (const index of indexes) for (const o of hourIndexSchema.parse(JSON.parse(await text(s3.client, s3.bucket, index))).objects) seqs.push(`t${o.timeline}#${o.seq}`);
        expect.soft(seqs.length, `${what}: no object number written twice (${seqs.join(' ')})`).toBe(new Set(seqs).size);
        const after: unknown = await restoreInto().catch((e: unknown) => e);
        expect.soft(after, `${what}: after the sink resumed, every record restores`).toMatchObject({ changes: 20 });
      } finally {
        await cleanup();
      }
    }
  }, 600_000);

  it('a checkpoint without a self-checksum (written before it existed) is still read, and saved with one; an inconsistent one is refused', async () => {
    await clearOfHourEnd();
    const { s3, key, target, storage, checkpointKey, job, restoreInto, cleanup } = await checkpointRig(server, redis, 'legacyckpt');
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let run = 0; run < 2; run++) {
        for (let i = 0; i < 5; i++) await app.put(`k${run}-${i}`, { n: i, run });
        await job().run();
      }
      const { selfChecksum, ...legacy } = JSON.parse(await text(s3.client, s3.bucket, checkpointKey)) as StreamCheckpoint;
      expect(selfChecksum).toMatchObject({ algorithm: 'sha256' });
      // Inconsistent (an hour's range past the last object written): refused, typed, by all three.
      const inconsistent = JSON.stringify({ ...legacy, hours: [{ ...legacy.hours[0]!, lastSeq: 3 }] });
      await put(s3.client, s3.bucket, checkpointKey, inconsistent);
      await expect(restoreInto()).rejects.toMatchObject({ code: 'BACKUP_CORRUPTED', problems: [{ key: checkpointKey, message: expect.stringContaining('hours[0].lastSeq') }] });
      await expect(job().run()).rejects.toMatchObject({ code: 'BACKUP_CORRUPTED' });
      expect(await text(s3.client, s3.bucket, checkpointKey)).toBe(inconsistent);
      const report = await applyRetention({ storage, stream: 'orders', keepLast: 1 });
      expect(report.damaged).toEqual([expect.objectContaining({ key: 'streams/orders/checkpoint.json', code: 'BACKUP_CORRUPTED' })]);

      await put(s3.client, s3.bucket, checkpointKey, JSON.stringify(legacy));
      expect((await restoreInto()).changes).toBe(10);
      await target.dropDatabase();
      for (let i = 0; i < 5; i++) await app.put(`k2-${i}`, { n: i, run: 2 });
      await job().run();
      expect(JSON.parse(await text(s3.client, s3.bucket, checkpointKey))).toMatchObject({ seq: 3, selfChecksum: { algorithm: 'sha256' } });
      expect((await restoreInto()).changes).toBe(15);
    } finally {
      await cleanup();
    }
  }, 300_000);

  it("retention: an hour's lastSeq edited below a kept snapshot's mark deletes no object that snapshot needs", async () => {
    const stream = await prunableStream(server, 'flipret');
    const { redis: source, key, storage, policy } = stream;
    try {
      const checkpointKey = 'r/streams/orders/checkpoint.json';
      // The kept (second) snapshot marked the checkpoint as it is now: object `mark`.
      const mark = (JSON.parse(await stream.read(checkpointKey)) as StreamCheckpoint).seq;
      // One more object, after the mark: the kept snapshot's point-in-time restore needs it.
      await outboxApp(source, key, 'orders').put('after', { phase: 'after' });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: source, key, envelopeField: 'e' }), target: storage }).run();
      const needed = await stream.streamObjects();
      const checkpoint = JSON.parse(await stream.read(checkpointKey)) as StreamCheckpoint;
      expect(checkpoint.seq).toBe(mark + 1);
      const hour = checkpoint.hours.find((h) => h.lastSeq === mark + 1)!;
      hour.lastSeq = mark;
      hour.firstSeq = Math.min(hour.firstSeq, mark);
      await stream.put(checkpointKey, JSON.stringify(checkpoint));

      const report: unknown = await applyRetention(policy).catch((e: unknown) => e);
      if (report instanceof Error) expect(report).toBeInstanceOf(BackupError);
      const left = await stream.streamObjects();
      const object = needed.find((k) => k.includes(`/${String(mark + 1).padStart(12, '0')}_`))!;
      expect(object).toBeDefined();
      const after = [object, `${object.slice(0, object.lastIndexOf('/'))}/index.json`];
      expect(needed).toEqual(expect.arrayContaining(after));
      expect(after.filter((k) => !left.includes(k)), 'the object after the mark (and its index) still there').toEqual([]);
    } finally {
      await stream.close();
    }
  }, 300_000);
});
