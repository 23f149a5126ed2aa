/**
 * Break-and-fix: `restoreStream({ until })` past what the stream has archived. `until` is read
 * like `pointInTimeRestore`'s `at`, which refuses a time past the stream's coverage
 * (`coveredUntil`: changes up to then are archived) with `PitrTargetError`; `restoreStream`
 * instead replayed what it had and reported success, so "the state as of `until`" silently
 * lacked every change made between the last archived one and `until`. It is refused the same
 * way now, nothing written; `until` within the coverage still restores. FerretDB target, moto.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PitrTargetError, mongoTarget, restoreStream, streamBackup } from '../src/index.js';
import { insertEnvelope } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('restoreStream until past the stream’s coverage (moto)', () => {
  it('is refused with PitrTargetError, nothing written; until within it restores', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const target = await freshDb('untilcov');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'until' };
      const t = Date.now() - 60_000;
      await streamBackup({ name: 'orders', target: storage }).append([insertEnvelope('a', new Date(t)), insertEnvelope('b', new Date(t + 1000))]);
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
