/**
 * Review finding (D3): a `mongoTarget` whose `collectionName` maps two backed-up collections to
 * one target collection merged them — backup `orders` {1, 2} and `refunds` {1} restored with
 * `collectionName: () => 'restored'` reported 3 records and no warning while the target held 2
 * documents (refund 1 replaced order 1). Such a mapping is refused with `ConfigurationError`
 * on `collectionName` before anything is written: by `restore` (the snapshot's collections) and
 * by `restoreStream` (the streamed changes' namespaces; `pointInTimeRestore` checks both the
 * same way). FerretDB, moto.
 */
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { mongoSource, mongoTarget, restore, restoreStream, snapshotBackup, streamBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

function refusedOnCollectionName(error: unknown): void {
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as ConfigurationError).field).toBe('collectionName');
  expect((error as Error).message).toMatch(/"orders" and "refunds" both to "restored"/);
}

describe('a collectionName mapping two collections to one (moto)', () => {
  it('is refused by restore and restoreStream before anything is written; a one-to-one mapping restores', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('d3src');
    const target = await freshDb('d3dst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'd3' };
      await source.collection<{ _id: number; v: string }>('orders').insertMany([{ _id: 1, v: 'order' }, { _id: 2, v: 'order' }]);
      await source.collection<{ _id: number; v: string }>('refunds').insertMany([{ _id: 1, v: 'refund' }]);
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');

      refusedOnCollectionName(await restore({ backup: { storage, id: done.backupId }, target: mongoTarget({ db: target, collectionName: () => 'restored' }) }).catch((e: unknown) => e));
      expect(await target.collection('restored').countDocuments()).toBe(0);

      const envelope = (aggregateType: string, aggregateId: string): OutboxEnvelope => ({ id: uuidv7(), type: 'Saved', aggregateType, aggregateId, seq: 1, payload: {}, occurredAt: new Date().toISOString(), schemaVersion: 1, change: { op: 'insert', after: { v: aggregateType } } });
      await streamBackup({ name: 'changes', target: storage }).append([envelope('orders', 'a'), envelope('refunds', 'a')]);
      refusedOnCollectionName(await restoreStream({ storage, stream: 'changes', target: mongoTarget({ db: target, collectionName: () => 'restored' }) }).catch((e: unknown) => e));
      expect(await target.collection('restored').countDocuments()).toBe(0);

      const result = await restore({ backup: { storage, id: done.backupId }, target: mongoTarget({ db: target, collectionName: (name) => `restored_${name}` }) });
      expect(result.records).toBe(3);
      expect(await target.collection('restored_orders').countDocuments()).toBe(2);
      expect(await target.collection('restored_refunds').countDocuments()).toBe(1);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
