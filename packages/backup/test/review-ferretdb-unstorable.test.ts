/**
 * Review (try-to-break) finding on restores into FerretDB 1.24, on moto: FerretDB refuses
 * ±Infinity doubles (at any depth: "infinity values are not allowed") and DBRefs (their "$ref"
 * key), and closes the connection on JavaScript code and symbols — all of which a backup taken
 * from a real MongoDB can hold. The record check let them through, so a restore wrote every document
 * before them and then failed mid-way with `RestoreApplyError` — half restored. They must be
 * refused with `RestoreUnsupportedError` before anything is written, like NaN.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { RestoreUnsupportedError, mongoSource, mongoTarget, parseManifest, restore, snapshotBackup } from '../src/index.js';
import { ContentHash } from '../src/format/content-hash.js';
import { ferretdbProblem, parseDocument } from '../src/format/records.js';
import { serializeManifest, segmentChecksum } from '../src/format/manifest.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

const LINES = [
  '{"_id":{"$numberInt":"1"},"ok":"fine"}',
  '{"_id":{"$numberInt":"2"},"x":{"$numberDouble":"Infinity"}}',
  '{"_id":{"$numberInt":"3"},"a":{"b":[{"$numberInt":"1"},{"$numberDouble":"-Infinity"}]}}',
  '{"_id":{"$numberInt":"4"},"f":{"$code":"function () {}"}}',
  '{"_id":{"$numberInt":"5"},"s":{"$symbol":"sym"}}',
  '{"_id":{"$numberInt":"6"},"r":{"$ref":"other","$id":{"$numberInt":"1"}}}',
];

describe('documents FerretDB cannot store', () => {
  it('are found by the record check', () => {
    expect(LINES.map((line) => ferretdbProblem(parseDocument(line)))).toEqual([undefined, 'x: Infinity', 'a.b.1: -Infinity', 'f: Code', 's: BSONSymbol', 'r: DBRef']);
  });

  it('are refused before anything is written (±Infinity, code, symbols, DBRefs)', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('unstorsrc');
    const target: Db = await freshDb('unstordst');
    try {
      await source.collection<{ _id: number }>('items').insertMany([{ _id: 1 }, { _id: 2 }]);
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'unstorable' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('backup did not complete');
      const stored = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: done.manifestKey }));
      const manifest = parseManifest(await stored.Body!.transformToString(), done.manifestKey);

      // A backup taken from a real MongoDB can hold these; build that segment by hand, signed correctly.
      const body = gzipSync(`${LINES.join('\n')}\n`);
      const key = `unstorable/backups/${manifest.backupId}/data/hand/00000.ndjson.gz`;
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
      const part = { number: 1, offset: 0, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), crc32: '', records: LINES.length, rawBytes: 0, firstKey: '1', lastKey: '6' };
      const hash = new ContentHash();
      for (const line of LINES) hash.addRecord(line);
      const { selfChecksum: _s, ...rest } = manifest;
      const hand = { name: 'hand', kind: 'mongodb-collection' as const, count: LINES.length, contentHash: hash.toHex(), encoding: 'ejson' as const, segments: [{ key, bytes: body.length, sha256: segmentChecksum([part]), records: LINES.length, rawBytes: 0, firstKey: '1', lastKey: '6', parts: [part] }] };
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: done.manifestKey, Body: serializeManifest({ ...rest, datasets: [hand, ...rest.datasets] }) }));

      const refused = await restore({ backup: { storage, id: manifest.backupId }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RestoreUnsupportedError);
      expect((refused as RestoreUnsupportedError).problems.map((p) => p.message)).toEqual(['record 2: x: Infinity', 'record 3: a.b.1: -Infinity', 'record 4: f: Code', 'record 5: s: BSONSymbol', 'record 6: r: DBRef']);
      expect(await target.listCollections().toArray()).toEqual([]);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
