/** The store contract, proven against each real server. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';
import { BACKENDS, eventually, openBackend, useBackend } from './support.js';

const token = (): string => randomBytes(12).toString('base64url');
const key = (): string => `scope:${token()}`;

describe.each(BACKENDS)('%s store', (name) => {
  const backend = useBackend(name);

  it('claims a new key, then reports the running record to the next claimant', async () => {
    const k = key();
    const asked = Date.now();
    const leaseUntil = asked + 10_000;
    expect(await backend.store.claim({ key: k, owner: token(), fingerprint: 'fpA', leaseUntil })).toEqual({ claimed: true, fence: 1 });
    const second = await backend.store.claim({ key: k, owner: token(), fingerprint: 'fpB', leaseUntil });
    const tookMs = Date.now() - asked;
    expect(second).toEqual({ claimed: false, record: { status: 'in_progress', fingerprint: 'fpA', leaseUntil: expect.any(Number) } });
    // The lease is judged by the store's clock and counts from the write (after the first call's
    // probe): off by at most the time the calls took (on a loaded machine, more than any fixed bound).
    expect(Math.abs((second as { record: { leaseUntil: number } }).record.leaseUntil - leaseUntil)).toBeLessThan(Math.max(1_000, 2 * tookMs));
  });

  it('completes only for the owner, and the completed record is what later claims see', async () => {
    const k = key();
    const owner = token();
    await backend.store.claim({ key: k, owner, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 });
    const asked = Date.now();
    const expiresAt = asked + 60_000;
    expect(await backend.store.complete({ key: k, owner: token(), fingerprint: 'fp', result: 'stranger', expiresAt })).toBe(false);
    expect(await backend.store.release({ key: k, owner: token() })).toBe(false);
    expect(await backend.store.complete({ key: k, owner, fingerprint: 'fp', result: '{"k":"v","v":1}|with|bars', expiresAt })).toBe(true);
    const claimAgain = await backend.store.claim({ key: k, owner: token(), fingerprint: 'fp', leaseUntil: Date.now() + 10_000 });
    const completed = { status: 'completed', fingerprint: 'fp', result: '{"k":"v","v":1}|with|bars', expiresAt: expect.any(Number) };
    expect(claimAgain).toEqual({ claimed: false, record: completed });
    const read = await backend.store.get(k);
    const tookMs = Date.now() - asked;
    expect(read).toEqual(completed);
    // Counted from the write, read back with the store's clock: off by at most the time the calls took.
    expect(Math.abs((read as { expiresAt: number }).expiresAt - expiresAt)).toBeLessThan(Math.max(250, 2 * tookMs));
    // A completed record is nobody's to complete or release again.
    expect(await backend.store.complete({ key: k, owner, fingerprint: 'fp', result: 'again', expiresAt })).toBe(false);
    expect(await backend.store.release({ key: k, owner })).toBe(false);
  });

  it('release by the owner frees the key for the next claim', async () => {
    const k = key();
    const owner = token();
    await backend.store.claim({ key: k, owner, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 });
    expect(await backend.store.release({ key: k, owner })).toBe(true);
    expect(await backend.store.get(k)).toBeUndefined();
    expect(await backend.store.claim({ key: k, owner: token(), fingerprint: 'fp', leaseUntil: Date.now() + 10_000 })).toMatchObject({ claimed: true });
  });

  it('an expired lease is absent: get sees nothing, the next claim takes over, the old owner is refused', async () => {
    const k = key();
    const stale = token();
    await backend.store.claim({ key: k, owner: stale, fingerprint: 'fp', leaseUntil: Date.now() + 150 });
    await eventually(async () => (await backend.store.get(k)) === undefined, 10_000);
    const fresh = token();
    expect(await backend.store.claim({ key: k, owner: fresh, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 })).toMatchObject({ claimed: true });
    expect(await backend.store.complete({ key: k, owner: stale, fingerprint: 'fp', result: 'late', expiresAt: Date.now() + 60_000 })).toBe(false);
    expect(await backend.store.release({ key: k, owner: stale })).toBe(false);
    expect(await backend.store.complete({ key: k, owner: fresh, fingerprint: 'fp', result: 'fresh', expiresAt: Date.now() + 60_000 })).toBe(true);
    expect((await backend.store.get(k))?.status).toBe('completed');
  });

  it('a completed record expires with its TTL', async () => {
    const k = key();
    const owner = token();
    await backend.store.claim({ key: k, owner, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 });
    await backend.store.complete({ key: k, owner, fingerprint: 'fp', result: 'r', expiresAt: Date.now() + 200 });
    await eventually(async () => (await backend.store.get(k)) === undefined, 10_000);
    expect(await backend.store.claim({ key: k, owner: token(), fingerprint: 'fp', leaseUntil: Date.now() + 10_000 })).toMatchObject({ claimed: true });
  });

  it('claimMany and completeMany settle a batch, each key on its own', async () => {
    const keys = Array.from({ length: 12 }, key);
    const owner0 = token();
    // Two keys exist already: one running, one completed.
    await backend.store.claim({ key: keys[0]!, owner: owner0, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 });
    const owner1 = token();
    await backend.store.claim({ key: keys[1]!, owner: owner1, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 });
    await backend.store.complete({ key: keys[1]!, owner: owner1, fingerprint: 'fp', result: 'done', expiresAt: Date.now() + 60_000 });
    const owners = keys.map(() => token());
    const results = await backend.store.claimMany(keys.map((k, i) => ({ key: k, owner: owners[i]!, fingerprint: 'fp', leaseUntil: Date.now() + 10_000 })));
    expect(results[0]).toMatchObject({ claimed: false, record: { status: 'in_progress' } });
    expect(results[1]).toMatchObject({ claimed: false, record: { status: 'completed', result: 'done' } });
    expect(results.slice(2).every((r) => r.claimed)).toBe(true);
    const settled = await backend.store.completeMany([
      { key: keys[0]!, owner: owners[0]!, fingerprint: 'fp', result: 'not mine', expiresAt: Date.now() + 60_000 },
      ...keys.slice(2, 7).map((k, i) => ({ key: k, owner: owners[i + 2]!, fingerprint: 'fp', result: `r${i}`, expiresAt: Date.now() + 60_000 })),
      ...keys.slice(7).map((k, i) => ({ key: k, owner: owners[i + 7]! })),
    ]);
    expect(settled).toEqual([false, true, true, true, true, true, true, true, true, true, true]);
    expect(await backend.store.get(keys[0]!)).toMatchObject({ status: 'in_progress' });
    expect(await backend.store.get(keys[4]!)).toMatchObject({ status: 'completed', result: 'r2' });
    expect(await backend.store.get(keys[9]!)).toBeUndefined();
  });
});

describe('redis cluster details', () => {
  const backend = useBackend('cluster');

  it("with hashTag: 'scope' a function's keys share one slot", async () => {
    const store = redisStore({ client: backend.redis!, prefix: backend.prefix, hashTag: 'scope' });
    const keys = Array.from({ length: 8 }, () => `scopeA:${token()}`);
    const results = await store.claimMany(keys.map((k) => ({ key: k, owner: token(), fingerprint: 'fp', leaseUntil: Date.now() + 10_000 })));
    expect(results.every((r) => r.claimed)).toBe(true);
    const slots = new Set<number>();
    for (const k of keys) slots.add(Number(await backend.redis!.call('CLUSTER', 'KEYSLOT', `${backend.prefix}{${k.split(':')[0]}}:${k.split(':')[1]}`)));
    expect(slots.size).toBe(1);
    // The records are where the tag says: under the tagged key on the cluster.
    expect(await backend.redis!.exists(`${backend.prefix}{scopeA}:${keys[0]!.split(':')[1]}`)).toBe(1);
    for (const k of keys) expect(await store.get(k)).toMatchObject({ status: 'in_progress' });
  });
});

describe('mongodb TTL index', () => {
  it('FerretDB has no TTL indexes: ensureIndexes says so instead of failing', async () => {
    const backend = await openBackend('mongodb');
    try {
      const server = await backend.mongo!.db('admin').command({ buildInfo: 1 });
      const isFerret = typeof server.ferretdbVersion === 'string' || JSON.stringify(server).toLowerCase().includes('ferretdb');
      const { mongoStore } = await import('../src/index.js');
      const result = await mongoStore({ collection: backend.collection! }).ensureIndexes();
      expect(result).toEqual({ ttl: !isFerret });
    } finally {
      await backend.close();
    }
  });

  it.skipIf(!process.env.MONGODB_REPLSET_URI)('on real MongoDB the TTL index exists on expiresAt (needs MONGODB_REPLSET_URI; FerretDB has no TTL indexes)', async () => {
    const { MongoClient } = await import('mongodb');
    const { mongoStore } = await import('../src/index.js');
    const mongo = new MongoClient(process.env.MONGODB_REPLSET_URI!);
    const collection = mongo.db('steadyfn_idempotency_test').collection(`ttl_${token()}`);
    try {
      expect(await mongoStore({ collection }).ensureIndexes()).toEqual({ ttl: true });
      const indexes = await collection.indexes();
      expect(indexes.find((i) => i.key.expiresAt === 1)?.expireAfterSeconds).toBe(0);
    } finally {
      await collection.drop().catch(() => undefined);
      await mongo.close();
    }
  });
});
