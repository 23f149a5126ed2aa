/**
 * Review finding (oz, quarantine listing by `_id`): `listQuarantined` on MongoDB read its
 * quarantine documents in pages with `{ _id: { $gt: last } }`. A comparison query matches only
 * values of the last one's BSON type, so a collection whose quarantine documents' `_id`s are
 * of several types (the relay writes strings; an ObjectId or a number comes from a hand-written
 * or restored document) lost every entry of the other types once a second page was read (a
 * page holding an unreadable entry). Right: every document is listed, or told to
 * `onUnreadable`, exactly once — one whose `_id` is not a string (no redrive reference can name
 * it) is told as unreadable, never given as an entry whose `aggregate` is not a string.
 * FerretDB, both Mongo stores. A later review: a `limit` below 1 listed one entry (Redis lists
 * none), and an embedded-document `_id` was told as `[object Object]`.
 */
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoEmbeddedOutbox, mongoTransactionOutbox } from '@steadyfn/outbox';
import { useMongo } from './support.js';

const mongo = useMongo();
const at = new Date(1_700_000_000_000);
const good = (reason: string) => ({ q: { fromSeq: 1, reason, at } });
const bad = { q: 'not a quarantine' };

describe.each([
  ['transaction mode (<outbox>_state)', 'oztx', (prefix: string) => `${prefix}_state`, (id: string) => id, (collection = 'oztx') => mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never, collection }).relay],
  ['embedded mode (<collection>_outbox)', 'ozemb', (prefix: string) => `${prefix}_outbox`, (id: string) => `order/${id}`, (collection = 'ozemb') => mongoEmbeddedOutbox({ db: mongo.db as never, collection, aggregateType: 'order', writeLease: mongo.lease }).relay],
] as const)('listQuarantined over _ids of several BSON types, %s', (_name, name, sideName, aggregateOf, relayOf) => {
  it('lists each readable quarantine once and tells each other document once, whatever the page boundaries', async () => {
    const side = mongo.db.collection(sideName(name));
    const oid = new ObjectId();
    // Sorted by _id: numbers, then strings, then ObjectIds. Unreadable entries first make the listing read a second page.
    await side.insertMany([
      { _id: 7, ...good('number id') },
      { _id: 'a', ...bad },
      { _id: 'b', ...bad },
      { _id: 'c', ...good('string c') },
      { _id: 'd', ...good('string d') },
      { _id: oid, ...good('object id') },
    ] as never[]);
    const relay = relayOf();
    for (const limit of [1, 2, 3, 10]) {
      const unreadable: string[] = [];
      const listed = await relay.listQuarantined({ limit, onUnreadable: (u) => unreadable.push(u.aggregate) });
      for (const entry of listed) expect(typeof entry.aggregate).toBe('string');
      const all = await relay.listQuarantined({ limit: 100, onUnreadable: () => undefined });
      expect(all.map((e) => e.reason)).toEqual(['string c', 'string d']);
      expect(listed.map((e) => e.reason)).toEqual(['string c', 'string d'].slice(0, limit));
      // Each document not listed is told once (a listing that stops at `limit` may not reach the last ones).
      expect(new Set(unreadable).size).toBe(unreadable.length);
      if (limit >= 3) expect(unreadable.sort()).toEqual(['7', 'a', 'b', String(oid)].map(aggregateOf).sort());
    }
  });

  it('a limit below 1 lists nothing (as on Redis); an embedded-document _id is told by its JSON, not as [object Object]', async () => {
    const side = mongo.db.collection(sideName(`${name}l`));
    await side.insertMany([
      { _id: 'c', ...good('string c') },
      { _id: { shard: 1, n: 2 }, ...good('embedded id') },
      { _id: { shard: 1, n: 3 }, ...good('another embedded id') },
    ] as never[]);
    const relay = relayOf(`${name}l`);
    for (const limit of [0, -1]) expect(await relay.listQuarantined({ limit, onUnreadable: () => undefined })).toEqual([]);
    const unreadable: string[] = [];
    await relay.listQuarantined({ limit: 10, onUnreadable: (u) => unreadable.push(u.aggregate) });
    expect(unreadable.sort()).toEqual(['{"shard":1,"n":2}', '{"shard":1,"n":3}'].map(aggregateOf).sort());
  });
});
