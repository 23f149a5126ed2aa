/**
 * Restore refuses a damaged backup with a typed error and writes nothing to the target: a
 * corrupted part, a missing segment, a tampered manifest, a missing manifest, an unknown
 * format version, and documents FerretDB cannot store. On both S3 servers.
 */
import { GetObjectCommand, PutObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { Db } from 'mongodb';
import {
  BackupCorruptedError,
  BackupIncompleteError,
  BackupNotFoundError,
  RestoreUnsupportedError,
  UnsupportedFormatError,
  mongoSource,
  mongoTarget,
  parseManifest,
  restore,
  snapshotBackup,
  type Manifest,
} from '../src/index.js';
import { serializeManifest, segmentChecksum } from '../src/format/manifest.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

// Test documents with _ids of any type.
type Doc = { _id: any; [field: string]: any };

afterAll(closeMongo);

async function read(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}
async function write(client: S3Client, bucket: string, key: string, body: Buffer | string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

describe.each(S3_SERVERS)('restore refusals on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let target: Db;
  let manifestKey: string;
  let manifest: Manifest;
  let pristine: Buffer;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'refusals' });

  beforeAll(async () => {
    s3 = await freshBucket(server);
    source = await freshDb('refsrc');
    target = await freshDb('refdst');
    await source.collection<Doc>('items').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: i, v: `v${i}` })));
    await source.collection<Doc>('other').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: `o${i}` })));
    const result = await snapshotBackup({ source: mongoSource({ db: source }), target: storage() }).run();
    if (result.status !== 'complete') throw new Error('backup did not complete');
    manifestKey = result.manifestKey;
    pristine = await read(s3.client, s3.bucket, manifestKey);
    manifest = parseManifest(pristine.toString(), manifestKey);
  });
  afterAll(async () => {
    await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
  });

  async function expectRefused(error: new (...args: never[]) => Error): Promise<void> {
    await expect(restore({ backup: { storage: storage(), id: manifest.backupId }, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(error);
    expect(await target.listCollections().toArray()).toEqual([]);
  }

  it('restores the intact backup (control)', async () => {
    const scratch = await freshDb('refok');
    await restore({ backup: { storage: storage(), id: manifest.backupId }, target: mongoTarget({ db: scratch }) });
    expect(await scratch.collection('items').countDocuments()).toBe(500);
    await scratch.dropDatabase();
  });

  it('refuses a corrupted part (one byte flipped)', async () => {
    const segment = manifest.datasets.find((d) => d.name === 'other')!.segments[0]!;
    const original = await read(s3.client, s3.bucket, segment.key);
    const damaged = Buffer.from(original);
    damaged[Math.floor(damaged.length / 2)]! ^= 0x01;
    await write(s3.client, s3.bucket, segment.key, damaged);
    try {
      await expectRefused(BackupCorruptedError);
    } finally {
      await write(s3.client, s3.bucket, segment.key, original);
    }
  });

  it('refuses a backup with a missing segment', async () => {
    const segment = manifest.datasets.find((d) => d.name === 'other')!.segments[0]!;
    const original = await read(s3.client, s3.bucket, segment.key);
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: segment.key }));
    try {
      await expectRefused(BackupIncompleteError);
    } finally {
      await write(s3.client, s3.bucket, segment.key, original);
    }
  });

  it('refuses a tampered manifest (a count changed, self-checksum left as it was)', async () => {
    const tampered = pristine.toString().replace('"count": 500', '"count": 499');
    expect(tampered).not.toBe(pristine.toString());
    await write(s3.client, s3.bucket, manifestKey, tampered);
    try {
      await expectRefused(BackupCorruptedError);
    } finally {
      await write(s3.client, s3.bucket, manifestKey, pristine);
    }
  });

  it('refuses a backup whose manifest is missing', async () => {
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: manifestKey }));
    try {
      await expectRefused(BackupNotFoundError);
    } finally {
      await write(s3.client, s3.bucket, manifestKey, pristine);
    }
  });

  it('refuses an unknown manifest format version', async () => {
    const { selfChecksum: _s, ...body } = manifest;
    const future = serializeManifest({ ...body, formatVersion: 2 } as never);
    await write(s3.client, s3.bucket, manifestKey, future);
    try {
      await expectRefused(UnsupportedFormatError);
    } finally {
      await write(s3.client, s3.bucket, manifestKey, pristine);
    }
  });

  it('refuses documents FerretDB cannot store (NaN, nested array, "$" key), before writing', async () => {
    // A backup taken from a real MongoDB can hold them; build that segment by hand, signed correctly.
    const lines = ['{"_id":{"$numberInt":"1"},"n":{"$numberDouble":"NaN"}}', '{"_id":{"$numberInt":"2"},"a":[[{"$numberInt":"1"}]]}', '{"_id":{"$numberInt":"3"},"ok":"fine"}'];
    const body = gzipSync(`${lines.join('\n')}\n`);
    const sha = createHash('sha256').update(body).digest('hex');
    const key = `refusals/backups/${manifest.backupId}/data/hand/00000.ndjson.gz`;
    await write(s3.client, s3.bucket, key, body);
    const part = { number: 1, offset: 0, bytes: body.length, sha256: sha, crc32: '', records: 3, rawBytes: 0, firstKey: '1', lastKey: '3' };
    const { ContentHash } = await import('../src/format/content-hash.js');
    const hash = new ContentHash();
    for (const line of lines) hash.addRecord(line);
    const { selfChecksum: _s, ...rest } = manifest;
    const withHand = serializeManifest({
      ...rest,
      datasets: [...rest.datasets, { name: 'hand', kind: 'mongodb-collection', count: 3, contentHash: hash.toHex(), encoding: 'ejson', segments: [{ key, bytes: body.length, sha256: segmentChecksum([part]), records: 3, rawBytes: 0, firstKey: '1', lastKey: '3', parts: [part] }] }],
    });
    await write(s3.client, s3.bucket, manifestKey, withHand);
    try {
      const refused = await restore({ backup: { storage: storage(), id: manifest.backupId }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RestoreUnsupportedError);
      expect((refused as RestoreUnsupportedError).problems.map((p) => p.message)).toEqual(['record 1: n: NaN', 'record 2: a.0: nested array']);
      expect(await target.listCollections().toArray()).toEqual([]);
    } finally {
      await write(s3.client, s3.bucket, manifestKey, pristine);
    }
  });
});
