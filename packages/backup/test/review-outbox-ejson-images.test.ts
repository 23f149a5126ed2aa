/**
 * Review defect D2 (outbox + backup, FerretDB): a MongoDB user passed the document they wrote
 * as `change.after` — `{ _id: new ObjectId(), placedAt: new Date() }`. `ctx.outbox.add` took it,
 * the envelope's `JSON.stringify` turned `_id` into hex and `placedAt` into an ISO string, and
 * `restoreStream` wrote a document with string `_id`/`placedAt`: beside the real one, types
 * dropped, silently. Now `add` refuses it (`OUTBOX_EVENT_INVALID`, field `change.after._id`,
 * nothing written), and the same document given as `EJSON.serialize(doc)` goes through the real
 * outbox write (`redisOutbox`), `streamBackup` from its Redis stream and `restoreStream` into
 * FerretDB with its ObjectId and Date.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox, streamKeyFor, type EventChange } from '@steadyfn/outbox';
import { EJSON } from 'bson';
import type { Redis } from 'ioredis';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dropPrefix } from '../../../test/support/redis.js';
import { mongoTarget, redisStreamSource, restoreStream, streamBackup } from '../src/index.js';
import { OUTBOX_ENVELOPE_FIELD } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

let redis: Redis;
beforeAll(async () => {
  redis = await redisClient();
});
afterAll(async () => {
  await closeMongo();
  redis?.disconnect();
});

describe('an outbox change image of a MongoDB document, restored by restoreStream on FerretDB (D2)', () => {
  it('refuses the document as written (nothing written); EJSON.serialize(doc) restores one document with its ObjectId and Date', async () => {
    const prefix = `${unique('ejson')}:`;
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('ejsrc');
    const target = await freshDb('ejdst');
    try {
      const orders = outbox({
        events: { OrderSaved: { aggregateType: 'orders', schema: z.object({}) } },
        store: redisOutbox({ client: redis, prefix: `${prefix}outbox:` }),
      });
      // The application: the document in MongoDB, its marker and event through the outbox.
      const lines: string[] = [];
      const save = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (input: unknown, ctx) => {
        const { doc, op, asEjson } = input as { doc: { _id: ObjectId; [field: string]: unknown }; op: EventChange['op']; asEjson: boolean };
        const id = doc._id.toHexString();
        ctx.outbox.call('SET', `${prefix}order:{o}:${id}`, op);
        ctx.outbox.add({ type: 'OrderSaved', aggregateId: id, payload: {}, change: { op, after: asEjson ? EJSON.serialize(doc) : doc } });
        await source.collection('orders').replaceOne({ _id: doc._id }, doc, { upsert: true });
        return 'saved';
      });
      const streamKey = streamKeyFor(`order:{o}`, `${prefix}outbox:`);
      const doc = { _id: new ObjectId(), placedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), total: 12 };

      // The document as written: refused, naming the field; neither the marker nor an event written.
      const refused = await save.invoke({ doc, op: 'insert', asEjson: false }, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
      expect(refused).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
      // The log names the field and what is expected (the caller's 500 does not: the function's own bug), never the value.
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'change.after._id', expected: expect.stringContaining('EJSON.serialize(doc)') }] });
      expect(lines.at(-1)).not.toContain(doc._id.toHexString());
      expect(await redis.exists(`${prefix}order:{o}:${doc._id.toHexString()}`, streamKey)).toBe(0);

      // As Extended JSON: written, archived from the outbox's own stream, restored with its types.
      await expect(save.invoke({ doc, op: 'insert', asEjson: true }, { deliveryId: randomUUID() })).resolves.toBe('saved');
      const updated = { ...doc, placedAt: new Date(doc.placedAt.getTime() + 1_000), total: 13 };
      await expect(save.invoke({ doc: updated, op: 'update', asEjson: true }, { deliveryId: randomUUID() })).resolves.toBe('saved');
      expect(await redis.xlen(streamKey)).toBe(2);

      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ej' };
      const run = await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: streamKey, envelopeField: OUTBOX_ENVELOPE_FIELD }), target: storage }).run();
      expect(run).toMatchObject({ records: 2 });
      const report = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) });
      expect(report.changes).toBe(2);

      const restored = await target.collection('orders').find({}).toArray();
      expect(restored).toHaveLength(1); // one document, not a string-keyed one beside it
      expect(restored[0]!._id).toBeInstanceOf(ObjectId);
      expect(restored[0]!.placedAt).toBeInstanceOf(Date);
      const canonical = (d: unknown) => EJSON.stringify(d, { relaxed: false });
      expect(canonical(restored[0])).toBe(canonical(await source.collection('orders').findOne({ _id: doc._id })));
      expect(canonical(restored[0])).toBe(canonical(updated));
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop(), dropPrefix(redis, prefix)]);
    }
  });
});
