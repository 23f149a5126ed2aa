/**
 * A restore drill compares the restored index definitions with the manifest's (name, key,
 * unique, sparse, partialFilterExpression, expireAfterSeconds) and fails on a difference. It
 * used to compare counts and content hashes only: a restore that lost or changed an index
 * passed. On FerretDB 1.24 (no TTL or partial indexes; `sparse` accepted but never reported by
 * `listIndexes`, so those options are not compared there and the report says so), with moto
 * and gofakes3.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, mongoTarget, parseManifest, snapshotBackup, verifyBackup, VerificationFailedError, type DrillReport, type RestoreTarget } from '../src/index.js';
import { serializeManifest } from '../src/format/manifest.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

type Doc = { _id: number; v: string; w: number; at: Date };

describe.each(S3_SERVERS)('drills compare index definitions, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let backupId: string;
  let manifestKey: string;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'drillidx' });
  const drill = (scratch: RestoreTarget, id = backupId) => verifyBackup({ backup: { storage: storage(), id }, level: 'drill', scratch });

  beforeAll(async () => {
    s3 = await freshBucket(server);
    source = await freshDb('dixsrc');
    const items = source.collection<Doc>('items');
    await items.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i, v: `v${i % 5}`, w: i, at: new Date(0) })));
    await items.createIndex({ v: 1, w: -1 }, { name: 'by_vw' });
    await items.createIndex({ w: 1 }, { name: 'by_w', unique: true });
    const result = await snapshotBackup({ source: mongoSource({ db: source }), target: storage() }).run();
    if (result.status !== 'complete') throw new Error('backup did not complete');
    backupId = result.backupId;
    manifestKey = result.manifestKey;
  });
  afterAll(async () => {
    await source.dropDatabase();
    await s3.drop();
  });

  it('a faithful restore passes, with the indexes compared and what was left out said', async () => {
    const scratch = await freshDb('dixok');
    const result = await drill(mongoTarget({ db: scratch }));
    const items = result.drill!.datasets.find((d) => d.name === 'items')!;
    expect(items).toMatchObject({ ok: true, indexes: { compared: 2, ok: true, differences: [] } });
    expect(items.indexes!.notes.join()).toMatch(/not compared: sparse, partialFilterExpression, expireAfterSeconds/);
    await scratch.dropDatabase();
  });

  it('a restore that lost one index, changed another and added a third fails the drill with each difference', async () => {
    const scratch = await freshDb('dixbad');
    const base = mongoTarget({ db: scratch });
    // The indexes a faulty restore leaves behind (as when a restore drops settings).
    const faulty: RestoreTarget = {
      ...base,
      async finish(dataset) {
        if (dataset.name !== 'items') return;
        await scratch.collection('items').createIndex({ w: 1 }, { name: 'by_w' });
        await scratch.collection('items').createIndex({ at: 1 }, { name: 'by_at' });
      },
    };
    const error = await drill(faulty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationFailedError);
    const messages = (error as VerificationFailedError).problems.map((p) => p.message);
    expect(messages).toEqual([
      'index by_vw {"v":1,"w":-1} is missing from the restore',
      'index by_w differs: unique not set in the restore, true in the manifest',
      'index by_at {"at":1} is in the restore, not in the manifest',
    ]);
    const report = (error as VerificationFailedError).report as DrillReport;
    expect(report.ok).toBe(false);
    expect(report.datasets[0]).toMatchObject({ restoredCount: 30, expectedCount: 30, ok: false, indexes: { ok: false } });
    expect(report.problems.join('\n')).toContain('by_w differs');
    await scratch.dropDatabase();
  });

  it('a TTL index FerretDB cannot create, skipped with unsupportedMetadata "skip", is explained rather than failed', async () => {
    // A backup from MongoDB with a TTL index (FerretDB cannot make one): the manifest as MongoDB's listIndexes gives it.
    const found = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: manifestKey }));
    const { selfChecksum: _c, ...body } = parseManifest(await found.Body!.transformToString(), manifestKey);
    const ttlKey = manifestKey.replace(backupId, `${backupId}-ttl`);
    // A backup of its own: its segments copied under its folder (a manifest naming another
    // backup's segments is refused as corrupted).
    const copied = async (key: string): Promise<string> => {
      const to = key.replace(backupId, `${backupId}-ttl`);
      const segment = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: to, Body: await segment.Body!.transformToByteArray() }));
      return to;
    };
    const datasets = await Promise.all(
      body.datasets.map(async (d) => ({
        ...d,
        segments: await Promise.all(d.segments.map(async (seg) => ({ ...seg, key: await copied(seg.key) }))),
        indexes: [...(d.indexes ?? []), { name: 'expire', key: { at: 1 }, options: { expireAfterSeconds: 3600 } }],
      })),
    );
    const withTtl = { ...body, backupId: `${backupId}-ttl`, datasets };
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: ttlKey, Body: serializeManifest(withTtl) }));
    const scratch = await freshDb('dixttl');
    const result = await drill(mongoTarget({ db: scratch, unsupportedMetadata: 'skip' }), `${backupId}-ttl`);
    const items = result.drill!.datasets.find((d) => d.name === 'items')!;
    expect(items).toMatchObject({ ok: true, indexes: { compared: 2, ok: true } });
    expect(items.indexes!.notes).toContain("index expire skipped by the target (unsupportedMetadata: 'skip'), not expected");
    await scratch.dropDatabase();
  });
});
