/**
 * Break-and-fix: `restoreStream({ until })` past what the stream has archived. `until` is read
 * like `pointInTimeRestore`'s `at`, which refuses a time past the stream's coverage
 * (`coveredUntil`: changes up to then are archived) with `PitrTargetError`; `restoreStream`
 * instead replayed what it had and reported success, so "the state as of `until`" silently
 * lacked every change made between the last archived one and `until`. It is refused the same
 * way now, nothing written; `until` within the coverage still restores. FerretDB target, moto.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PitrTargetError, mongoTarget, restoreStream, streamBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

let n = 0;
const envelope = (aggregateId: string, occurredAt: string): OutboxEnvelope => ({
  id: `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  type: 'OrderPlaced',
  aggregateType: 'orders',
  aggregateId,
  seq: 1,
  payload: {},
  occurredAt,
  change: { op: 'insert', after: { _id: aggregateId, total: 1 } },
});

describe('restoreStream until past the stream’s coverage (moto)', () => {
  it('is refused with PitrTargetError, nothing written; until within it restores', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const target = await freshDb('untilcov');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'until' };
      const t = Date.now() - 60_000;
      await streamBackup({ name: 'orders', target: storage }).append([envelope('a', new Date(t).toISOString()), envelope('b', new Date(t + 1000).toISOString())]);
      const checkpoint = await readJson<{ coveredUntil: string }>(s3.client, s3.bucket, 'until/streams/orders/checkpoint.json');
      const covered = Date.parse(checkpoint!.coveredUntil);
      expect(covered).toBe(t + 1000);

      const refused = await restoreStream({ storage, stream: 'orders', until: covered + 1, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PitrTargetError);
      expect((refused as PitrTargetError).message).toContain(`covered until ${checkpoint!.coveredUntil}`);
      expect(await target.listCollections().toArray()).toEqual([]);

      expect(await restoreStream({ storage, stream: 'orders', until: covered, target: mongoTarget({ db: target }) })).toMatchObject({ changes: 2 });
      expect(await target.collection('orders').countDocuments()).toBe(2);
    } finally {
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
