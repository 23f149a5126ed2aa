/**
 * The MongoDB-wire store on FerretDB, by its layout: races on records written as a crashed
 * holder leaves them (old and young), settle against takeover, purge and sweep, the start-up
 * probe and the server clock.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { LeaseStoreUnsupportedError, mongoLeaseStore, type MongoLeaseCollection } from '../src/index.js';
import { eventually, token } from './support/backends.js';

const TRIALS = 20;

describe('MongoDB-wire lease store on FerretDB', () => {
  let mongo: MongoClient;
  let collection: Collection<any>;
  beforeAll(async () => {
    await requireService('mongodb');
    mongo = await new MongoClient(process.env.MONGODB_URI!, { maxPoolSize: 32 }).connect();
    collection = mongo.db('steadyfn_lease_test').collection(`layout_${randomUUID().slice(0, 8)}`);
  });
  afterAll(async () => {
    await collection?.drop().catch(() => undefined);
    await mongo?.close();
  });

  /** Generation 1 of `key` held by a crashed owner, written `writtenAgoMs` ago, its lease ended 1 s ago. */
  const crashed = async (key: string, writtenAgoMs: number): Promise<void> => {
    const now = Date.now();
    await collection.insertOne({ _id: `${key}#1`, k: key, g: 1, s: 'h', o: 'crashed-owner', d: 'delivery', e: new Date(now - 1000), p: new Date(now - 1000), c: new Date(now - writtenAgoMs) });
  };

  it.each([
    ['written a minute ago (read by query)', 60_000, false],
    ['written just now (read by _id after a hint)', 1_500, true],
  ])(`8 concurrent takeovers of an expired generation %s: exactly one winner (${TRIALS} trials)`, async (_label, writtenAgoMs, hinted) => {
    const winners: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const key = `takeover:${randomUUID()}`;
      await crashed(key, writtenAgoMs);
      const stores = Array.from({ length: 8 }, () => mongoLeaseStore({ collection, reads: 'by-id' }));
      // A get() teaches each store the key's generation, so the claims walk by _id.
      if (hinted) await Promise.all(stores.map((s) => s.get(key)));
      const results = await Promise.all(stores.map((s) => s.claim({ key, owner: token(), leaseMs: 30_000, data: 'delivery' })));
      winners.push(results.filter((r) => r.claimed).length);
      expect(results.filter((r) => r.claimed).every((r) => r.claimed && r.fence === 2)).toBe(true);
      for (const r of results) if (!r.claimed) expect(r.record).toMatchObject({ state: 'held', fence: 2 });
      expect(await stores[0]!.settle({ key, owner: 'crashed-owner', fence: 1, data: 'late', keepMs: 60_000 })).toBe(false);
    }
    expect(winners).toEqual(winners.map(() => 1));
  }, 60_000);

  it(`a late settle by the holder races 8 takeovers: exactly one of them wins (${TRIALS} trials)`, async () => {
    for (let t = 0; t < TRIALS; t++) {
      const key = `race:${randomUUID()}`;
      const holderStore = mongoLeaseStore({ collection });
      const owner = token();
      const claim = await holderStore.claim({ key, owner, leaseMs: 50 });
      if (!claim.claimed) throw new Error('not claimed');
      await new Promise((r) => setTimeout(r, 120));
      const rivals = Array.from({ length: 8 }, () => mongoLeaseStore({ collection, reads: t % 2 === 0 ? 'by-id' : 'query' }));
      const [settled, ...claims] = await Promise.all([
        holderStore.settle({ key, owner, fence: claim.fence, data: 'done late', keepMs: 60_000 }),
        ...rivals.map((s) => s.claim({ key, owner: token(), leaseMs: 30_000 })),
      ]);
      const won = claims.filter((c) => c.claimed).length + (settled ? 1 : 0);
      expect({ trial: t, won }).toEqual({ trial: t, won: 1 });
      const record = await holderStore.get(key);
      expect(record).toMatchObject(settled ? { state: 'done', data: 'done late' } : { state: 'held' });
    }
  }, 60_000);

  it('a record past its retention is purged by the next claim, which starts again at fence 1', async () => {
    const key = `purged:${randomUUID()}`;
    const old = new Date(Date.now() - 3 * 3_600_000);
    await collection.insertMany([
      { _id: `${key}#1`, k: key, g: 1, s: 'h', o: 'a', e: old, p: old, c: old },
      { _id: `${key}#2`, k: key, g: 2, s: 'd', o: 'a', d: 'x', e: old, p: old, c: old },
    ]);
    const store = mongoLeaseStore({ collection });
    expect(await store.claim({ key, owner: token(), leaseMs: 10_000 })).toMatchObject({ claimed: true, fence: 1 });
    expect(await collection.countDocuments({ k: key })).toBe(1);
  });

  it('a record in its last 30 s before purge is reported held by nobody; after purge it is claimed', async () => {
    const key = `near:${randomUUID()}`;
    const retainMs = 120_000;
    const end = new Date(Date.now() - retainMs + 10_000);
    await collection.insertOne({ _id: `${key}#1`, k: key, g: 1, s: 'f', o: 'a', e: end, p: end, c: end });
    const store = mongoLeaseStore({ collection, retainMs });
    expect(await store.claim({ key, owner: token(), leaseMs: 10_000 })).toEqual({ claimed: false, record: { state: 'held', fence: 1, owner: '', expiresAt: expect.any(Number) } });
    expect(await store.get(key)).toBeUndefined();
  });

  it('superseded generations older than 60 s are swept after the next change; younger ones stay', async () => {
    const key = `sweep:${randomUUID()}`;
    const long = new Date(Date.now() - 120_000);
    const recent = new Date(Date.now() - 5_000);
    await collection.insertMany([
      { _id: `${key}#1`, k: key, g: 1, s: 'h', o: 'a', e: long, p: long, c: long },
      { _id: `${key}#2`, k: key, g: 2, s: 'f', o: 'a', e: recent, p: long, c: recent },
    ]);
    const store = mongoLeaseStore({ collection });
    expect(await store.claim({ key, owner: token(), leaseMs: 10_000 })).toMatchObject({ claimed: true, fence: 3 });
    await eventually(async () => (await collection.countDocuments({ k: key })) === 2, 5000);
    expect((await collection.find({ k: key }).toArray()).map((d) => d.g).sort()).toEqual([2, 3]);
  });

  it('purge() deletes what ended more than retainMs ago, nothing else', async () => {
    const key = `purge:${randomUUID()}`;
    const store = mongoLeaseStore({ collection, retainMs: 120_000 });
    const old = new Date(Date.now() - 200_000);
    await collection.insertOne({ _id: `${key}#1`, k: key, g: 1, s: 'd', o: 'a', d: 'x', e: old, p: old, c: old });
    const live = `live:${randomUUID()}`;
    await store.claim({ key: live, owner: token(), leaseMs: 10_000 });
    const { deleted } = await store.purge();
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await collection.countDocuments({ k: key })).toBe(0);
    expect(await store.get(live)).toMatchObject({ state: 'held' });
  });

  it('probe(): FerretDB enforces a unique _id under 8 concurrent inserts and reports batch duplicates per insert', async () => {
    const probed = await mongoLeaseStore({ collection }).probe();
    expect(probed).toEqual({ batchInsertErrorsPerOperation: true, ferretdb: true, serverClock: true });
    expect(await collection.countDocuments({ probe: true })).toBe(0);
  });

  it('leases are written in the server\'s time and read back in ours', async () => {
    // The real collection, seen through a server whose clock runs 10 minutes ahead of ours.
    const skew = 600_000;
    const through = (db: MongoLeaseCollection['db']): MongoLeaseCollection => ({
      find: (...args: any[]) => collection.find(...(args as [any])),
      insertOne: (...args: any[]) => collection.insertOne(...(args as [any])),
      insertMany: (...args: any[]) => collection.insertMany(...(args as [any])),
      deleteMany: (...args: any[]) => collection.deleteMany(...(args as [any])),
      createIndex: (...args: any[]) => collection.createIndex(...(args as [any])),
      ...(db ? { db } : {}),
    });
    const skewed = through({ command: async (command: Record<string, unknown>) => (command.hello ? { localTime: new Date(Date.now() + skew) } : collection.db.command(command)) });
    const key = `clock:${randomUUID()}`;
    const store = mongoLeaseStore({ collection: skewed, reads: 'query' });
    const claim = await store.claim({ key, owner: token(), leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const doc = await collection.findOne({ k: key });
    expect(Math.abs(doc!.e.getTime() - (Date.now() + skew + 60_000))).toBeLessThan(2_000);
    const record = await store.get(key);
    expect(Math.abs(record!.expiresAt - (Date.now() + 60_000))).toBeLessThan(2_000);
    // A store judging by our own clock would see the lease ending 10 minutes later.
    const local = await mongoLeaseStore({ collection: through(undefined), reads: 'query' }).get(key);
    expect(local!.expiresAt - record!.expiresAt).toBeGreaterThan(skew - 2_000);
  });
});

describe('a server that does not enforce a unique _id', () => {
  /** A collection that accepts every insert: pure logic, standing in for a broken server. */
  const careless = (): MongoLeaseCollection & { inserted: unknown[] } => {
    const inserted: unknown[] = [];
    return {
      inserted,
      // It keeps what it was given: a find by `_id` returns every document inserted under it.
      find: (filter: { _id?: unknown } = {}) => ({ toArray: async () => inserted.filter((d) => filter._id === undefined || (d as { _id?: unknown })._id === filter._id) }),
      insertOne: async (doc: unknown) => void inserted.push(doc),
      insertMany: async (docs: unknown[]) => void inserted.push(...docs),
      deleteMany: async () => ({ deletedCount: 0 }),
      createIndex: async () => 'ok',
    };
  };

  it('is refused before the first call, with a typed error that says why, and nothing is claimed', async () => {
    const col = careless();
    const store = mongoLeaseStore({ collection: col });
    const error = await store.claim({ key: 'k', owner: 'o', leaseMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseStoreUnsupportedError);
    expect(error).toMatchObject({ code: 'LEASE_STORE_UNSUPPORTED', check: 'unique-insert', retryable: false });
    expect((error as Error).message).toMatch(/8 of 8 concurrent inserts of one _id succeeded/);
    await expect(store.settle({ key: 'k', owner: 'o', fence: 1 })).rejects.toBeInstanceOf(LeaseStoreUnsupportedError);
    expect(col.inserted.every((d) => (d as { probe?: boolean }).probe === true)).toBe(true);
  });
});

describe('mongoLeaseStore options', () => {
  it('are checked up front', () => {
    expect(() => mongoLeaseStore({ collection: {} as never })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'collection' }));
    expect(() => mongoLeaseStore({ collection: () => ({}) as never, retainMs: 60_000 })).toThrow(/option "retainMs" must be a whole number of milliseconds ≥ 120000; got 60000/);
    expect(() => mongoLeaseStore({ collection: () => ({}) as never, reads: 'fast' as never })).toThrow(expect.objectContaining({ field: 'reads' }));
  });
});
