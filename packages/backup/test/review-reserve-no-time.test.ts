/**
 * A function whose timeout is not longer than a job's `reserveMs` (Lambda's default timeout is
 * 3 s; the reserves default to 10 s, 5 s and 5 s) never does any work: every snapshot run
 * returns `checkpointed` with nothing read, every stream run pulls nothing, every retention run
 * stops by the deadline. That used to be silent; each run now warns on `ctx.log` with the time it
 * had and its reserve. A run with time past its reserve does not warn. FerretDB, Redis and moto.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { applyRetention, mongoSource, redisStreamSource, snapshotBackup, streamBackup, type LogLike } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

/** A handler-like context `ms` from its deadline whose warnings are kept. */
function ctxWithin(ms: number): { ctx: { remainingMs: () => number; log: LogLike }; warnings: Array<{ message: string; fields?: Record<string, unknown> }> } {
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const deadline = Date.now() + ms;
  const log: LogLike = { info: () => undefined, error: () => undefined, warn: (message, fields) => void warnings.push({ message, ...(fields ? { fields } : {}) }) };
  return { ctx: { remainingMs: () => Math.max(0, deadline - Date.now()), log }, warnings };
}

type Warning = { message: string; fields?: Record<string, unknown> };
const noTime = (warnings: Warning[]): Warning[] => warnings.filter((w) => w.message.includes('no time past reserveMs'));

describe('a run with no time past its reserve says so', () => {
  let redis: Redis | undefined;
  afterAll(() => redis?.quit());

  it('snapshotBackup, streamBackup and applyRetention warn with the time they had and their reserve; with time they do not', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('noreserve');
    redis = await redisClient();
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('noreserve') };
    const key = `${storage.prefix}:events`;
    try {
      await db.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      await redis.xadd(key, '*', 'v', '1');

      // A 3 s function (Lambda's default timeout) with the default reserves.
      const short = ctxWithin(3_000);
      const snapshot = snapshotBackup({ source: mongoSource({ db }), target: storage });
      expect(await snapshot.run(short.ctx)).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0 });
      const stream = streamBackup({ name: 'ev', source: redisStreamSource({ client: redis, key }), target: storage });
      expect(await stream.run(short.ctx)).toMatchObject({ records: 0, stoppedEarly: true });
      expect((await applyRetention({ storage, keepLast: 1 }, short.ctx)).stoppedBy).toBe('deadline');
      const warned = noTime(short.warnings);
      expect(warned.map((w) => w.message.split(':')[0])).toEqual(['snapshot job "snapshot"', 'stream "ev"', 'retention']);
      expect(warned.map((w) => w.fields?.reserveMs)).toEqual([10_000, 5_000, 5_000]);
      for (const w of warned) expect(w.fields?.remainingMs).toBeLessThanOrEqual(3_000);

      // Time past the reserve: the same runs do their work and say nothing of it.
      const ample = ctxWithin(600_000);
      expect(await snapshot.run(ample.ctx)).toMatchObject({ status: 'complete', records: 1 });
      expect(await stream.run(ample.ctx)).toMatchObject({ records: 1 });
      await applyRetention({ storage, keepLast: 1 }, ample.ctx);
      expect(noTime(ample.warnings)).toEqual([]);
    } finally {
      await redis.del(key);
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
