/**
 * Review finding (D4): `mongoWatermarkSource` filters `{ field: { $gte: Date, $lte: Date } }`,
 * so documents whose watermark is a string, a number or missing were never streamed and nothing
 * said so. The first pull (of a process, then one an hour) counts them and reports a
 * `WATERMARK_NOT_DATE` notice — a warning on the run's log and in the result's `notices` — with
 * the count and the first `_id`, never a value. FerretDB, moto.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mongoWatermarkSource, streamBackup, type LogLike } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

function recordingLog(): LogLike & { lines: Array<{ level: string; message: string; fields: unknown }> } {
  const lines: Array<{ level: string; message: string; fields: unknown }> = [];
  const at = (level: string) => (message: string, fields?: unknown) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as LogLike & { lines: typeof lines };
}

describe('watermarks that are not Dates (moto)', () => {
  it('are counted and reported with the first _id, never the value; a collection without them reports nothing', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('d4wm');
    try {
      const at = new Date(Date.now() - 60_000);
      await db.collection('items').insertMany([
        { _id: 1, updatedAt: at },
        { _id: 2, updatedAt: 'secret-string-watermark' },
        { _id: 3, updatedAt: 1_700_000_000_000 },
        { _id: 4 },
      ] as never[]);
      await db.collection('clean').insertMany([{ _id: 1, updatedAt: at }] as never[]);
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'd4' };
      const log = recordingLog();
      const result = await streamBackup({ name: 'items', source: mongoWatermarkSource({ db, collection: 'items' }), target: storage }).run({ log });
      expect(result.records).toBe(1);
      expect(result.notices).toEqual([expect.objectContaining({ code: 'WATERMARK_NOT_DATE', count: 3, key: '{"$numberInt":"2"}' })]);
      const warned = log.lines.filter((l) => l.level === 'warn' && l.message === 'stream source notice');
      expect(warned).toEqual([{ level: 'warn', message: 'stream source notice', fields: { name: 'items', code: 'WATERMARK_NOT_DATE', count: 3, key: '{"$numberInt":"2"}' } }]);
      expect(JSON.stringify(log.lines)).not.toContain('secret-string-watermark');

      const clean = await streamBackup({ name: 'clean', source: mongoWatermarkSource({ db, collection: 'clean' }), target: storage }).run({ log });
      expect(clean.records).toBe(1);
      expect(clean.notices).toBeUndefined();
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
