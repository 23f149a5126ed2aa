/**
 * A MongoDB restore checks the target's indexes against the backup's again once it holds the
 * target's lock (src/restore/mongo.ts `checkLocked`), on FerretDB (:27117) and moto S3: another
 * restore that ran between its first check (in `prepare`) and its lock may have built a clashing
 * index. Before, only the first check ran: the second restore wrote its documents and then failed
 * building its index (`RestoreApplyError`), a mix of both backups left behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IndexConflictError, mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('MongoDB restore: index check under the lock (FerretDB)', () => {
  it('a clashing index built by a restore that ran after this one’s first check is refused before anything is written', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('ixsrc');
    const target = await freshDb('ixdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ix' };
      const backup = async (value: string, direction: 1 | -1): Promise<string> => {
        await source.collection('orders').drop().catch(() => undefined);
        await source.collection<{ _id: number; v: string }>('orders').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, v: `${value}${i}` })));
        await source.collection('orders').createIndex({ v: direction }, { name: 'by_v' });
        const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
        if (done.status !== 'complete') throw new Error('backup did not complete');
        return done.backupId;
      };
      const a = await backup('a', 1);
      const c = await backup('c', -1);
      const base = mongoTarget({ db: target });
      // Restore c passes its first check on the empty target; restore a then runs to the end
      // (index by_v on { v: 1 }) before c takes the lock.
      const racing = {
        ...base,
        async prepare(...args: Parameters<typeof base.prepare>) {
          const prepared = await base.prepare(...args);
          expect((await restore({ backup: { storage, id: a }, target: mongoTarget({ db: target }) })).records).toBe(20);
          return prepared;
        },
      };
      const error = await restore({ backup: { storage, id: c }, target: racing, ifTargetNotEmpty: 'merge' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IndexConflictError);
      expect((error as IndexConflictError).problems).toContainEqual(expect.objectContaining({ key: 'orders' }));
      // Nothing of c was written: a's documents, a's index.
      const docs = await target.collection<{ _id: number; v: string }>('orders').find().sort({ _id: 1 }).toArray();
      expect(docs.map((d) => d.v)).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
      expect((await target.collection('orders').indexes()).find((i) => i.name === 'by_v')?.key).toEqual({ v: 1 });
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
