/**
 * Review (try-to-break) finding on point-in-time restore (and `restoreStream`) into FerretDB 1.24, on moto: the
 * snapshot's records were checked against the target, but the streamed changes were not. A
 * change whose `after` image FerretDB cannot store (here ±Infinity, from an outbox envelope's
 * Extended JSON) let the restore write the whole snapshot and then fail while applying the
 * changes — half restored. It must be refused with `RestoreUnsupportedError` before anything
 * is written.
 */
import type { Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { RestoreUnsupportedError, mongoSource, mongoTarget, pointInTimeRestore, restoreStream, snapshotBackup, streamBackup, verifyBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

const envelope = (seq: number, after: Record<string, unknown>): OutboxEnvelope => ({
  id: `01900000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
  type: 'OrderChanged',
  aggregateType: 'orders',
  aggregateId: 'o1',
  seq,
  payload: {},
  occurredAt: new Date().toISOString(),
  change: { op: 'update', after },
});

describe('point-in-time restore into FerretDB', () => {
  it('refuses a streamed change FerretDB cannot store before writing anything', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('pitrunsrc');
    const target: Db = await freshDb('pitrundst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pitr' };
      await source.collection<{ _id: string; total: number }>('orders').insertOne({ _id: 'o1', total: 1 });
      const stream = streamBackup({ name: 'orders', target: storage });
      await stream.append([envelope(1, { total: 1 })]);
      const snap = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, stream: 'orders' }).run();
      if (snap.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: snap.backupId }, level: 'full' });
      await new Promise((r) => setTimeout(r, 20));
      const infinite = envelope(2, { total: { $numberDouble: 'Infinity' } });
      await new Promise((r) => setTimeout(r, 20));
      const last = envelope(3, { total: 3 });
      await stream.append([infinite, last]);

      // The state at the second change holds it: refused, nothing written.
      const error = await pointInTimeRestore({ storage, stream: 'orders', at: infinite.occurredAt, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreUnsupportedError);
      expect((error as RestoreUnsupportedError).problems.map((p) => p.message)).toEqual([`change ${infinite.id}: total: Infinity`]);
      expect(await target.listCollections().toArray()).toEqual([]);

      // The same from the stream alone.
      const alone = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }), until: infinite.occurredAt }).catch((e: unknown) => e);
      expect(alone).toBeInstanceOf(RestoreUnsupportedError);
      expect(await target.listCollections().toArray()).toEqual([]);

      // At the third, the change that replaces it in the same batch is what is written: restored.
      await pointInTimeRestore({ storage, stream: 'orders', at: last.occurredAt, target: mongoTarget({ db: target }) });
      expect(await target.collection('orders').find({}).toArray()).toEqual([{ _id: 'o1', total: 3 }]);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
