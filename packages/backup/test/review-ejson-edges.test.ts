/**
 * Peer bug replays (tools and drivers losing Extended JSON edge types on the way through JSON):
 * dates before 1970 and at the ends of the range (appsmithorg/appsmith#15105, jeroen/mongolite#45 /
 * #171), binary subtypes (generic, old and new UUID, MD5, user-defined, empty), Timestamp, -0.0,
 * the smallest int64, empty field names, and a document of 1 MiB (one NDJSON line longer than
 * many zlib chunks). Each must come back from a snapshot restore exactly as the server held it,
 * and a drill must pass. Real FerretDB and moto. (Decimal128, MinKey / MaxKey, dotted and
 * `$`-prefixed field names: FerretDB 1.24 stores none of them; a backup holding them is refused
 * before writing by the record check, src/format/records.test.ts.)
 */
import { EJSON } from 'bson';
import { Binary, Double, Int32, Long, Timestamp, UUID, type Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

async function raw(db: Db): Promise<string[]> {
  const docs = await db.collection('edges').find({}, { sort: { _id: 1 }, promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true }).toArray();
  return docs.map((d) => EJSON.stringify(d, { relaxed: false }));
}

const DOCS: Array<Record<string, unknown>> = [
  { _id: new Int32(2), before1970: new Date(-1), moon: new Date('1969-07-20T20:17:40.123Z'), year1: new Date('0001-01-01T00:00:00.000Z'), far: new Date('9999-12-31T23:59:59.999Z') },
  { _id: new Int32(3), generic: new Binary(Buffer.from([0, 1, 2, 255])), uuidOld: new Binary(Buffer.alloc(16, 7), 3), uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'), md5: new Binary(Buffer.alloc(16, 9), 5), user: new Binary(Buffer.from('custom'), 0x80), empty: new Binary(Buffer.alloc(0)) },
  { _id: new Int32(4), ts: new Timestamp({ t: 1700000000, i: 7 }), negZero: new Double(-0), big: Long.fromString('-9223372036854775808') },
  { _id: new Int32(5), '': 'empty name', nested: { '': { '': 2 } } },
  { _id: new Int32(6), blob: 'z'.repeat(1024 * 1024) },
];

// One S3 server: the types are the target's concern (both servers carry the same bytes elsewhere).
describe.each(S3_SERVERS.slice(0, 1))('Extended JSON edge types, on $name', (server) => {
  it('are restored exactly and drilled', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('edgesrc');
    const target = await freshDb('edgedst');
    const scratch = await freshDb('edgedrill');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'edges' };
      await source.collection('edges').insertMany(DOCS as never);
      const expected = await raw(source);
      expect(expected).toHaveLength(DOCS.length);
      const snap = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(snap.status).toBe('complete');
      const report = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) });
      expect(report.records).toBe(expected.length);
      const got = await raw(target);
      expect(got).toEqual(expected);
      const drilled = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }) });
      expect(drilled.ok).toBe(true);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), scratch.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
