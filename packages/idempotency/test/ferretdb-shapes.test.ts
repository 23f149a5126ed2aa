/**
 * Issue 9, items 1–3: the three shapes that broke exactly-once on FerretDB 1.24, run against a
 * FerretDB of this file's own (a storm may wedge it; the shared one stays out of it).
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoStore, type ClaimResult, type IdempotencyStore } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, type OwnServer } from '../../../test/support/servers.js';

const TRIALS = 20;
const owner = (): string => randomUUID();

describe.skipIf(!ferretdbAvailable())('FerretDB shapes of issue 9 (own FerretDB; needs .services/bin/ferretdb-local from services.sh start)', () => {
  let server: OwnServer & { uri: string };
  let mongo: MongoClient;
  let collection: Collection;
  let store: IdempotencyStore;

  beforeAll(async () => {
    server = await startFerretDB();
    mongo = new MongoClient(server.uri, { maxPoolSize: 64, serverSelectionTimeoutMS: 5000 });
    await mongo.connect();
    collection = mongo.db('shapes').collection(`records_${randomUUID().slice(0, 8)}`);
    store = mongoStore({ collection });
  }, 60_000);

  afterAll(async () => {
    await mongo?.close();
    await server?.dispose();
  });

  it(`8 concurrent takeovers of an expired record held by a crashed owner: exactly one winner (${TRIALS} trials)`, async () => {
    const keys = Array.from({ length: TRIALS }, () => `scope:${randomUUID()}`);
    // Each key held by a crashed owner whose lease has run out (1 s ago, as in the issue).
    for (const key of keys) await store.claim({ key, owner: 'crashed-owner', fingerprint: 'delivery', leaseUntil: Date.now() + 20 });
    await new Promise((r) => setTimeout(r, 1050));
    const winners: number[] = [];
    for (const key of keys) {
      const results = await Promise.all(Array.from({ length: 8 }, () => store.claim({ key, owner: owner(), fingerprint: 'delivery', leaseUntil: Date.now() + 30_000 })));
      winners.push(results.filter((r) => r.claimed).length);
    }
    expect({ trialsWithOneWinner: winners.filter((w) => w === 1).length, winners }).toEqual({ trialsWithOneWinner: TRIALS, winners: winners.map(() => 1) });
  }, 120_000);

  it(`two concurrent claimMany over the same 6 fresh keys in opposite orders: every record is held by the claimer told "claimed" (${TRIALS} trials)`, async () => {
    let orphaned = 0;
    const details: string[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const keys = Array.from({ length: 6 }, () => `scope:${randomUUID()}`);
      const leaseUntil = Date.now() + 30_000;
      const [a, b] = await Promise.all([
        store.claimMany(keys.map((key) => ({ key, owner: owner(), fingerprint: 'A', leaseUntil }))),
        store.claimMany([...keys].reverse().map((key) => ({ key, owner: owner(), fingerprint: 'B', leaseUntil }))),
      ]);
      const bByKey = new Map<string, ClaimResult>([...keys].reverse().map((key, i) => [key, b[i]!]));
      let bad = false;
      for (const [i, key] of keys.entries()) {
        const ra = a[i]!;
        const rb = bByKey.get(key)!;
        const record = await store.get(key);
        const holder = record?.status === 'in_progress' ? record.fingerprint : undefined;
        const told = [ra.claimed ? 'A' : '', rb.claimed ? 'B' : ''].join('');
        // Exactly one was told "claimed", and the record is that one's.
        if (told.length !== 1 || holder !== told) {
          bad = true;
          details.push(`trial ${t} key ${i}: told ${told || 'nobody'}, held by ${holder ?? 'nobody'}`);
        }
      }
      if (bad) orphaned++;
    }
    expect({ orphanedTrials: orphaned, details: details.slice(0, 5) }).toEqual({ orphanedTrials: 0, details: [] });
  }, 120_000);

  it('8 clients × 16 concurrent batch claims over the same 10 keys: the server keeps answering and every key has one owner', async () => {
    const keys = Array.from({ length: 10 }, () => `scope:${randomUUID()}`);
    const clients = await Promise.all(Array.from({ length: 8 }, () => new MongoClient(server.uri, { maxPoolSize: 16, serverSelectionTimeoutMS: 5000 }).connect()));
    try {
      const stores = clients.map((c) => mongoStore({ collection: c.db('shapes').collection(collection.collectionName) }));
      const leaseUntil = Date.now() + 60_000;
      const storm = Promise.all(
        stores.flatMap((s, ci) =>
          Array.from({ length: 16 }, (_, bi) => {
            // Every batch covers all 10 keys, in a rotating order.
            const order = keys.map((_, i) => keys[(i + ci + bi) % keys.length]!);
            return s.claimMany(order.map((key) => ({ key, owner: `c${ci}b${bi}`, fingerprint: `c${ci}b${bi}`, leaseUntil }))).then((results) => results.map((r, i) => ({ key: order[i]!, r, who: `c${ci}b${bi}` })));
          }),
        ),
      );
      const outcome = await Promise.race([storm.then((all) => ({ all })), new Promise<{ all?: undefined }>((resolve) => setTimeout(() => resolve({}), 60_000))]);
      // Still answering: a fresh client's read comes back.
      const fresh = await new MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 }).connect();
      try {
        const ping = await Promise.race([fresh.db('shapes').collection(collection.collectionName).findOne({ _id: 'nothing' as never }).then(() => 'answered'), new Promise((r) => setTimeout(() => r('silent'), 10_000))]);
        expect(ping).toBe('answered');
      } finally {
        await fresh.close();
      }
      expect(outcome.all, 'the storm finished within 60 s').toBeDefined();
      const winnersByKey = new Map<string, string[]>();
      for (const { key, r, who } of outcome.all!.flat()) if (r.claimed) winnersByKey.set(key, [...(winnersByKey.get(key) ?? []), who]);
      for (const key of keys) {
        const winners = winnersByKey.get(key) ?? [];
        expect(winners, key).toHaveLength(1);
        const record = await store.get(key);
        expect(record).toMatchObject({ status: 'in_progress', fingerprint: winners[0] });
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 180_000);
});
