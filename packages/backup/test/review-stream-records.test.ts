/**
 * Review (try-to-break) finding on stream sources, on Redis 7 and moto: one malformed entry in
 * an outbox stream (an `envelope` field that is not JSON, an `occurredAt` that is not a time, a
 * `seq` that is not a number, a `change.after` that is not Extended JSON) made every run throw
 * a bare `RangeError`/`SyntaxError`/`TypeError`. It must be a typed, non-retryable
 * `SourceRecordInvalidError` naming the entry's position (never its content), with nothing of
 * the batch archived and the checkpoint where it was; the same for `append()` in push mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { SourceRecordInvalidError, redisStreamSource, streamBackup } from '../src/index.js';
import { freshBucket, listAll, redisClient, S3_SERVERS, unique } from './support.js';

const envelope = (seq: number, extra: Record<string, unknown> = {}) => ({
  id: `e${seq}`,
  type: 'OrderPlaced',
  aggregateType: 'orders',
  aggregateId: 'o1',
  seq,
  payload: {},
  occurredAt: new Date().toISOString(),
  ...extra,
});

const BAD: Array<[string, string]> = [
  ['not JSON', '{not json'],
  ['"occurredAt" is not an ISO time with its zone (Z or an offset)', JSON.stringify(envelope(2, { occurredAt: 'yesterday' }))],
  ['"seq" is not a whole number ≥ 0', JSON.stringify(envelope(2, { seq: 'two' }))],
  ['"change.after" is not an Extended JSON document', JSON.stringify(envelope(2, { change: { op: 'update', after: { total: { $numberDecimal: 5 } } } }))],
];

describe('a malformed outbox entry', () => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    redis.disconnect();
    await s3.drop();
  });

  it.each(BAD)('pulled from a Redis stream (%s) is a SourceRecordInvalidError at its position, nothing archived', async (problem, text) => {
    const key = `${unique('outbox')}`;
    const prefix = unique('p');
    try {
      await redis.xadd(key, '1-1', 'e', JSON.stringify(envelope(1)));
      await redis.xadd(key, '2-1', 'e', text);
      const job = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: { client: s3.client, bucket: s3.bucket, prefix }, buffer: { maxBytes: 1024 * 1024, maxMs: 1 } });
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await job.run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SourceRecordInvalidError);
        expect(error).toMatchObject({ code: 'BACKUP_SOURCE_RECORD_INVALID', retryable: false, problems: [{ key: '000000000000002-0000000001', message: problem }] });
        expect((error as Error).message).not.toContain('yesterday');
      }
      expect((await listAll(s3.client, s3.bucket, `${prefix}/streams/`)).filter((k) => k.endsWith('.ndjson.gz'))).toEqual([]);
    } finally {
      await redis.del(key);
    }
  });

  it('appended in push mode is a SourceRecordInvalidError too', async () => {
    const job = streamBackup({ name: 'pushed', target: { client: s3.client, bucket: s3.bucket, prefix: unique('push') } });
    const error = await job.append([envelope(1), envelope(2, { occurredAt: 'not a time' })] as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceRecordInvalidError);
    expect(error).toMatchObject({ problems: [{ key: 'e2', message: '"occurredAt" is not an ISO time with its zone (Z or an offset)' }] });
  });
});
