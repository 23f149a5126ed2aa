/**
 * `purge()` on FerretDB, bounded: it was one `deleteMany({ p: { $lt: cutoff } })` over every
 * expired record — the outbox-cleanup complaint of NServiceBus / MassTransit users (one huge
 * delete holding the server; on FerretDB 1.24 a collection scan under SQLite's lock). Now it
 * deletes `batchSize` `_id`s at a time, stops after `maxDeletes` (`more: true`), leaves records
 * not yet purgeable, and sends no further batch once its signal aborts.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { mongoLeaseStore, type MongoLeaseCollection } from '../src/index.js';

describe('bounded purge() on FerretDB', () => {
  let mongo: MongoClient;
  const collections: Collection<any>[] = [];
  beforeAll(async () => {
    await requireService('mongodb');
    mongo = await new MongoClient(process.env.MONGODB_URI!).connect();
  });
  afterAll(async () => {
    await Promise.all(collections.map((c) => c.drop().catch(() => undefined)));
    await mongo?.close();
  });

  const retainMs = 120_000;
  /** A fresh collection with `expired` records past `retainMs` and `kept` ones within it. */
  const seeded = async (expired: number, kept: number): Promise<Collection<any>> => {
    const collection = mongo.db('steadyfn_lease_test').collection<any>(`purge_${randomUUID().slice(0, 8)}`);
    collections.push(collection);
    const old = new Date(Date.now() - 3 * retainMs);
    const recent = new Date(Date.now() - retainMs / 4);
    const doc = (key: string, p: Date) => ({ _id: `${key}#1`, k: key, g: 1, s: 'd', o: 'a', d: 'x', e: p, p, c: p });
    await collection.insertMany([
      ...Array.from({ length: expired }, (_, i) => doc(`old:${i}`, old)),
      ...Array.from({ length: kept }, (_, i) => doc(`kept:${i}`, recent)),
    ]);
    return collection;
  };
  const keptLeft = (collection: Collection<any>) => collection.countDocuments({ k: /^kept:/ });
  const oldLeft = (collection: Collection<any>) => collection.countDocuments({ k: /^old:/ });

  it('deletes more records than one batch, batch by batch, and leaves the ones not yet purgeable', async () => {
    const collection = await seeded(11, 3);
    const deletes: number[] = [];
    const counting = { ...bind(collection), deleteMany: async (filter: { _id: { $in: string[] } }, ...rest: unknown[]) => {
      if ('p' in filter) deletes.push(filter._id.$in.length); // not the start-up probe's own clean-up
      return collection.deleteMany(filter as never, ...(rest as []));
    } };
    const store = mongoLeaseStore({ collection: counting, retainMs });
    expect(await store.purge({ batchSize: 4 })).toEqual({ deleted: 11, more: false });
    expect(deletes).toEqual([4, 4, 3]);
    expect(await oldLeft(collection)).toBe(0);
    expect(await keptLeft(collection)).toBe(3);
  });

  it('stops after maxDeletes with more: true; the next call goes on', async () => {
    const collection = await seeded(10, 2);
    const store = mongoLeaseStore({ collection, retainMs });
    expect(await store.purge({ batchSize: 3, maxDeletes: 7 })).toEqual({ deleted: 7, more: true });
    expect(await oldLeft(collection)).toBe(3);
    expect(await store.purge({ batchSize: 3, maxDeletes: 7 })).toEqual({ deleted: 3, more: false });
    expect(await oldLeft(collection)).toBe(0);
    expect(await keptLeft(collection)).toBe(2);
    expect(await store.purge()).toEqual({ deleted: 0, more: false });
  });

  it('sends no further batch once its signal aborts', async () => {
    const collection = await seeded(9, 0);
    const controller = new AbortController();
    const reason = new Error('deadline');
    const aborting = { ...bind(collection), deleteMany: async (...args: unknown[]) => {
      const result = await collection.deleteMany(...(args as [never]));
      if ('p' in (args[0] as object)) controller.abort(reason); // not at the start-up probe's own clean-up
      return result;
    } };
    const store = mongoLeaseStore({ collection: aborting, retainMs });
    await expect(store.purge({ batchSize: 4, signal: controller.signal })).rejects.toBe(reason);
    expect(await oldLeft(collection)).toBe(5);
  });

  it.each([
    ['batchSize', { batchSize: 0 }],
    ['batchSize', { batchSize: 1_001 }],
    ['maxDeletes', { maxDeletes: 2.5 }],
    ['maxDelete', { maxDelete: 10 }],
  ])('refuses %s out of range before sending anything', async (field, options) => {
    const store = mongoLeaseStore({ collection: () => { throw new Error('not reached'); }, retainMs });
    await expect(store.purge(options as never)).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field });
  });
});

/** The collection's methods the store calls, bound, to override one of them. */
function bind(collection: Collection<any>): MongoLeaseCollection {
  return {
    find: collection.find.bind(collection),
    insertOne: collection.insertOne.bind(collection),
    insertMany: collection.insertMany.bind(collection),
    deleteMany: collection.deleteMany.bind(collection),
    createIndex: collection.createIndex.bind(collection),
    db: collection.db,
  };
}
