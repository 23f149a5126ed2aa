/**
 * Review (try-to-break) finding on MongoDB documents round-tripping exactly. The source read
 * documents with the driver's defaults, which turn BSON numbers into JS numbers and regular
 * expressions into JS `RegExp`s before they are written as canonical Extended JSON: a double
 * `5.0` came back an int32 `5`, a double `3e9` an int64, an int64 `7` an int32, and a regular
 * expression lost its `x`, `l` and `u` options — while a checksum, a `full` verification and
 * a drill all passed (the drill read the copy back the same lossy way). A regular expression with
 * the `s` option failed the collection's whole backup. The same held for documents streamed by
 * `mongoWatermarkSource`. The BSON types must be read and restored as they are.
 */
import { EJSON } from 'bson';
import { BSONRegExp, Double, Int32, Long, type Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, mongoWatermarkSource, restore, restoreStream, snapshotBackup, streamBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/** The documents as the server holds them: no promotion to JS numbers or RegExps. */
async function raw(db: Db): Promise<string> {
  const docs = await db.collection('values').find({}, { sort: { _id: 1 }, promoteValues: false, promoteLongs: false, bsonRegExp: true }).toArray();
  return EJSON.stringify(docs, { relaxed: false });
}

describe.each(S3_SERVERS)('BSON numbers and regular expressions, on $name', (server) => {
  it('are backed up, restored (snapshot and stream) and drilled as the types they are', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('typessrc');
    const restored = await freshDb('typesdst');
    const streamed = await freshDb('typesstr');
    const scratch = await freshDb('typesdrill');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'types' };
      const updatedAt = new Date(Date.now() - 60_000);
      await source.collection('values').insertMany([
        { _id: new Int32(1), double: new Double(5), bigDouble: new Double(3e9), long: Long.fromNumber(7), int: new Int32(5), bigLong: Long.fromString('9007199254740993'), list: [new Double(1), Long.fromNumber(2)], nested: { d: new Double(-2) }, updatedAt },
        { _id: new Double(2), regex: new BSONRegExp('a . b', 'isx'), other: new BSONRegExp('^a', 'lmu'), updatedAt },
        { _id: Long.fromNumber(3), updatedAt },
      ] as never);
      const expected = await raw(source);

      const snap = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(snap.status).toBe('complete');
      await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: restored }) });
      expect(await raw(restored)).toBe(expected);
      const drilled = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }) });
      expect(drilled.ok).toBe(true);

      const stream = streamBackup({ name: 'values', source: mongoWatermarkSource({ db: source, collection: 'values', lagMs: 0 }), target: storage });
      expect((await stream.run()).records).toBe(3);
      await restoreStream({ storage, stream: 'values', target: mongoTarget({ db: streamed }) });
      expect(await raw(streamed)).toBe(expected);
    } finally {
      await Promise.all([source.dropDatabase(), restored.dropDatabase(), streamed.dropDatabase(), scratch.dropDatabase(), s3.drop()]);
    }
  });
});
