/**
 * Review: retention with `stream` when that stream has never checkpointed, on moto and
 * gofakes3 (FerretDB as the source). Snapshots taken with `stream: 'orders'` before its sink
 * ever ran carry the mark "timeline 1, object 0"; retention then read the stream's checkpoint
 * to prune its objects, found none and threw `BackupNotFoundError` after its deletes — every
 * run, so orphans and stream sweeps never ran either. A stream without a checkpoint has
 * nothing to prune.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, verifiedBackups } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('retention of snapshots marked with a stream that never ran, on $name', (server) => {
  it('applies the policy and prunes no stream object', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retnostream');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ns' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage, stream: 'orders' }), storage, 3);
      const report = await applyRetention({ storage, keepLast: 1, stream: 'orders' });
      expect(report).toMatchObject({ deleted: [ids[0], ids[1]], kept: [ids[2]], streamObjects: 0 });
      expect(report.stoppedBy).toBeUndefined();
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  });
});
