/** MongoDB sources against FerretDB (MongoDB wire protocol), counting the commands it received. */
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../../test/services/env.js';
import { TEST_DB, mongoClient, unique, type MongoCommandLog } from '../../test/support.js';
import { SourceError } from '../errors.js';
import { defineState, mongoDocument, mongoQuery, type Known, type StateError } from '../index.js';

type AnyDoc = { _id: string; [field: string]: any };
let mongo: MongoCommandLog;
let db: Db;
const collection = unique('docs');
const signal = () => new AbortController().signal;
const known = <T>(loaded: { value: T; version?: unknown }): Known<T> => ({ value: loaded.value, version: loaded.version });

beforeAll(async () => {
  await requireService('mongodb');
  mongo = await mongoClient();
  db = mongo.client.db(TEST_DB);
});

afterAll(async () => {
  await db?.collection(collection).drop().catch(() => undefined);
  await mongo?.client.close();
});

const target = () => ({ client: mongo.client, db: TEST_DB, collection });

describe('mongoDocument', () => {
  it('an inclusion projection that already brings the version field (or its parent) is sent as given, without a path collision', async () => {
    const id = unique('doc');
    await db.collection<AnyDoc>(collection).insertOne({ _id: id, meta: { v: 3, owner: 'ops' }, name: 'pro', secret: 's' });
    const sent: unknown[] = [];
    const listener = (event: { commandName: string; command: Record<string, unknown> }): void => {
      if (event.commandName === 'find' && event.command.find === collection) sent.push(event.command.projection);
    };
    mongo.client.on('commandStarted', listener);
    try {
      const parent = mongoDocument({ ...target(), filter: { _id: id }, projection: { meta: 1, name: 1 }, versionField: 'meta.v' });
      expect(await parent.load(signal())).toEqual({ value: { _id: id, meta: { v: 3, owner: 'ops' }, name: 'pro' }, version: 3 });
      const same = mongoDocument({ ...target(), filter: { _id: id }, projection: { 'meta.v': 1, name: 1 }, versionField: 'meta.v' });
      expect((await same.load(signal())).version).toBe(3);
      const other = mongoDocument({ ...target(), filter: { _id: id }, projection: { name: 1 }, versionField: 'meta.v' });
      expect(await other.load(signal())).toEqual({ value: { _id: id, meta: { v: 3 }, name: 'pro' }, version: 3 });
    } finally {
      mongo.client.off('commandStarted', listener);
    }
    // MongoDB 4.4+ refuses { meta: 1, 'meta.v': 1 } ("Path collision at meta.v"); FerretDB does not, so the command is checked.
    expect(sent).toEqual([{ meta: 1, name: 1 }, { 'meta.v': 1, name: 1 }, { name: 1, 'meta.v': 1 }]);
  });


  it('loads one document with its version field and revalidates by reading that field alone', async () => {
    const id = unique('doc');
    await db.collection<AnyDoc>(collection).insertOne({ _id: id, plan: 'pro', limits: { rps: 5 }, version: 1 });
    const source = mongoDocument({ ...target(), filter: { _id: id }, versionField: 'version', map: ({ _id, ...rest }) => rest });
    mongo.take();
    const loaded = await source.load(signal());
    expect(loaded).toEqual({ value: { plan: 'pro', limits: { rps: 5 }, version: 1 }, version: 1 });

    expect(await source.revalidate!(known(loaded), signal())).toBe('unchanged');
    const calls = mongo.take();
    expect(calls.map((c) => c.name)).toEqual(['find', 'find']);

    await db.collection<AnyDoc>(collection).updateOne({ _id: id }, { $set: { plan: 'team' }, $inc: { version: 1 } });
    expect(await source.revalidate!(known(loaded), signal())).toEqual({ value: { plan: 'team', limits: { rps: 5 }, version: 2 }, version: 2 });
  });

  it('compares Date versions by time ($currentDate)', async () => {
    const id = unique('dated');
    await db.collection<AnyDoc>(collection).insertOne({ _id: id, n: 1, updatedAt: new Date('2026-01-01T00:00:00Z') });
    const source = mongoDocument({ ...target(), filter: { _id: id }, versionField: 'updatedAt' });
    const loaded = await source.load(signal());
    expect(loaded.version).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(await source.revalidate!(known(loaded), signal())).toBe('unchanged');
    await db.collection<AnyDoc>(collection).updateOne({ _id: id }, { $set: { n: 2 }, $currentDate: { updatedAt: true } });
    expect(await source.revalidate!(known(loaded), signal())).toMatchObject({ value: { n: 2 } });
  });

  it('keeps the version field in an inclusion projection', async () => {
    const id = unique('projected');
    await db.collection<AnyDoc>(collection).insertOne({ _id: id, a: 1, b: 2, rev: 9 });
    const loaded = await mongoDocument({ ...target(), filter: { _id: id }, projection: { _id: 0, a: 1 }, versionField: 'rev' }).load(signal());
    expect(loaded).toEqual({ value: { a: 1, rev: 9 }, version: 9 });
  });

  it('fails when no document matches, unless optional', async () => {
    const filter = { _id: unique('absent') };
    await expect(mongoDocument({ ...target(), filter }).load(signal())).rejects.toThrow(new SourceError('no document matches the filter'));
    expect(await mongoDocument({ ...target(), filter, optional: true, versionField: 'v' }).load(signal())).toEqual({ value: null });
  });

  it('takes a function that returns the client (a connections handle)', async () => {
    const id = unique('handle');
    await db.collection<AnyDoc>(collection).insertOne({ _id: id, ok: true });
    const source = mongoDocument({ client: async () => mongo.client, db: TEST_DB, collection, filter: { _id: id } });
    expect((await source.load(signal())).value).toMatchObject({ ok: true });
  });

  it('stops when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await expect(mongoDocument({ ...target(), filter: {} }).load(controller.signal)).rejects.toThrow('deadline');
  });
});

describe('mongoQuery', () => {
  it('loads the documents, and with a version document revalidates by one findOne of it', async () => {
    const group = unique('group');
    const versionId = unique('version');
    await db.collection(collection).insertMany([
      { group, name: 'b', rank: 2 },
      { group, name: 'a', rank: 1 },
    ]);
    await db.collection<AnyDoc>(collection).insertOne({ _id: versionId, v: 1 });
    const source = mongoQuery({
      ...target(),
      filter: { group },
      sort: { rank: 1 },
      map: (doc) => doc.name as string,
      versionDocument: { filter: { _id: versionId }, field: 'v' },
    });
    const loaded = await source.load(signal());
    expect(loaded).toEqual({ value: ['a', 'b'], version: 1 });
    mongo.take();
    expect(await source.revalidate!(known(loaded), signal())).toBe('unchanged');
    expect(mongo.take()).toHaveLength(1);

    await db.collection(collection).insertOne({ group, name: 'c', rank: 3 });
    await db.collection<AnyDoc>(collection).updateOne({ _id: versionId }, { $inc: { v: 1 } });
    mongo.take();
    expect(await source.revalidate!(known(loaded), signal())).toEqual({ value: ['a', 'b', 'c'], version: 2 });
    // The version read by the revalidation is reused: no second read of it.
    expect(mongo.take()).toHaveLength(2);
  });

  it('has no revalidate without a version document', () => {
    expect(mongoQuery({ ...target() }).revalidate).toBeUndefined();
  });

  it('fails when the query matches more than limit documents, instead of filling memory', async () => {
    const group = unique('many');
    await db.collection(collection).insertMany(Array.from({ length: 4 }, (_, i) => ({ group, i })));
    const cache = defineState({ sources: { rows: mongoQuery({ ...target(), filter: { group }, limit: 3 }) } });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error.failures).toEqual([expect.objectContaining({ source: 'rows', message: expect.stringContaining('more than 3 documents') })]);
    expect(() => mongoQuery({ ...target(), limit: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'limit' }));
  });
});
