/**
 * A stream run or a retention run with no more time than its reserve stops before any work, as
 * a snapshot run does (`review-reserve-before-work.test.ts`): no S3 request, no lease, no source
 * call. Both used to warn that they stop "before any work", then still probe S3 (a dozen
 * requests), take their lease (writing its object), read the stream's checkpoint or the clock
 * and — a stream — release the lease again: seconds, past a 3 s function's deadline. S3
 * requests are counted by a client whose `send` counts calls, wrapping the real moto client;
 * source calls by a proxy on a real Redis stream source.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, redisStreamSource, streamBackup, type StreamSource } from '../src/index.js';
import { deadlineIn, freshBucket, listAll, redisClient, S3_SERVERS, unique } from './support.js';

/** `client`, counting every `send` in `sent`. */
function countingClient(client: S3Client): { client: S3Client; sent: string[] } {
  const sent: string[] = [];
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (command: { constructor: { name: string } }, ...rest: unknown[]) => (sent.push(command.constructor.name), (target.send as (...a: unknown[]) => unknown).call(target, command, ...rest));
    },
  });
  return { client: counted, sent };
}

/** `source`, recording the name of every method called on it in `calls`. */
function countingSource(source: StreamSource): { source: StreamSource; calls: string[] } {
  const calls: string[] = [];
  const counted = new Proxy(source, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (calls.push(String(prop)), (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { source: counted, calls };
}

describe('stream and retention runs with no time past their reserve (moto)', () => {
  let redis: Redis | undefined;
  afterAll(() => redis?.quit());

  it('streamBackup returns stoppedEarly (deadline, no timeline) with no S3 request, no lease and no pull; with time it archives', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    redis = await redisClient();
    const prefix = unique('notime');
    const key = `${prefix}:events`;
    const counting = countingClient(s3.client);
    const source = countingSource(redisStreamSource({ client: redis, key }));
    try {
      await redis.xadd(key, '*', 'v', '1');
      const job = streamBackup({ name: 'ev', source: source.source, target: { client: counting.client, bucket: s3.bucket, prefix }, reserveMs: 5_000 });

      const result = await job.run(deadlineIn(3_000));
      expect(counting.sent).toEqual([]);
      expect(source.calls).toEqual([]);
      // No lease object (a claim writes it, a release rewrites it), nothing at all under the prefix.
      expect(await listAll(s3.client, s3.bucket, `${prefix}/`)).toEqual([]);
      expect(result).toEqual({ name: 'ev', objects: 0, records: 0, timelineBroken: false, snapshotRequired: false, stoppedEarly: true, reason: 'deadline' });

      // With time, the same job does the work (the counters see it).
      const next = await job.run(deadlineIn(600_000));
      expect(next).toMatchObject({ objects: 1, records: 1, timeline: 1, stoppedEarly: false });
      expect(next.reason).toBeUndefined();
      expect(counting.sent.length).toBeGreaterThan(0);
      expect(source.calls).toContain('pull');
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  }, 60_000);

  it.each([false, true])('applyRetention (dryRun %s) returns stoppedBy deadline with no S3 request and no lease', async (dryRun) => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const prefix = unique('notime');
    const counting = countingClient(s3.client);
    try {
      const report = await applyRetention({ storage: { client: counting.client, bucket: s3.bucket, prefix }, keepLast: 1, dryRun }, deadlineIn(3_000));
      expect(counting.sent).toEqual([]);
      // No retention/lease.json: the lease was not taken.
      expect(await listAll(s3.client, s3.bucket, `${prefix}/`)).toEqual([]);
      expect(report).toMatchObject({ dryRun, stoppedBy: 'deadline', kept: [], deleted: [], left: { backups: 0, listings: ['backups/'] } });

      // With time, the same call reads the bucket (the counter sees it) and finishes.
      const next = await applyRetention({ storage: { client: counting.client, bucket: s3.bucket, prefix }, keepLast: 1, dryRun }, deadlineIn(600_000));
      expect(next.stoppedBy).toBeUndefined();
      expect(counting.sent.length).toBeGreaterThan(0);
    } finally {
      await s3.drop();
    }
  }, 60_000);
});
