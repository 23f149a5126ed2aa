/**
 * Review: a source given a version (`versionKey`, `versionField`) whose version is not there —
 * the version key never written, or written under another name (`…:v` against `…:version`), a
 * hash or document without the field — kept `null` as its version. Each revalidation read `null`
 * again, took it for "unchanged", and served the first value loaded for the life of the
 * instance: writes to the data were never seen, without a word. A version that is not there is
 * no version now: the source is loaded in full each time the state is stale, like a source
 * without one. Against the shared Redis and FerretDB.
 */
import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { defineState, mongoDocument, redisHash, redisKey } from '../src/index.js';
import { mongoClient, redisClient, TEST_DB, unique } from './support.js';

let redis: Redis;
let mongo: MongoClient;
const redisKeys: string[] = [];
const collection = unique('missing-version');

beforeAll(async () => {
  await Promise.all([requireService('redis'), requireService('mongodb')]);
  redis = await redisClient();
  mongo = (await mongoClient()).client;
});

afterAll(async () => {
  if (redisKeys.length) await redis?.del(...redisKeys);
  redis?.disconnect();
  await mongo?.db(TEST_DB).collection(collection).drop().catch(() => undefined);
  await mongo?.close();
});

/** A state with its own clock: `stale()` moves it past `maxAgeMs`. */
function clocked<S>(source: S) {
  let t = 0;
  const cache = defineState({ sources: { s: source as never }, maxAgeMs: 1_000, now: () => t });
  return { cache, stale: () => (t += 1_001) };
}

describe('a version that is not there', () => {
  it('redisKey whose versionKey was never written: a changed value is loaded once the state is stale', async () => {
    const key = unique('config');
    redisKeys.push(key);
    await redis.set(key, JSON.stringify({ retries: 1 }));
    const { cache, stale } = clocked(redisKey({ client: redis, key, versionKey: `${key}:v` }));
    expect(await cache.get()).toEqual({ s: { retries: 1 } });
    await redis.set(key, JSON.stringify({ retries: 2 }));
    stale();
    expect(await cache.get()).toEqual({ s: { retries: 2 } });
  });

  it('redisHash without its versionField: a changed field is loaded once the state is stale', async () => {
    const key = unique('flags');
    redisKeys.push(key);
    await redis.hset(key, 'maxItems', '10');
    const { cache, stale } = clocked(redisHash({ client: redis, key, versionField: 'version' }));
    expect(await cache.get()).toEqual({ s: { maxItems: '10' } });
    await redis.hset(key, 'maxItems', '50');
    stale();
    expect(await cache.get()).toEqual({ s: { maxItems: '50' } });
  });

  it('mongoDocument without its versionField: a changed document is loaded once the state is stale', async () => {
    const docs = mongo.db(TEST_DB).collection<{ _id: string; price: number }>(collection);
    await docs.insertOne({ _id: 'pro', price: 20 });
    const { cache, stale } = clocked(mongoDocument({ client: mongo, db: TEST_DB, collection, filter: { _id: 'pro' }, projection: { _id: 0 }, versionField: 'version' }));
    expect(await cache.get()).toEqual({ s: { price: 20 } });
    await docs.updateOne({ _id: 'pro' }, { $set: { price: 25 } });
    stale();
    expect(await cache.get()).toEqual({ s: { price: 25 } });
  });

  it('a version written later is then used: one version read when nothing changed', async () => {
    const key = unique('config');
    redisKeys.push(key, `${key}:v`);
    await redis.set(key, '1');
    const { cache, stale } = clocked(redisKey({ client: redis, key, versionKey: `${key}:v` }));
    await cache.get();
    await redis.set(key, '2');
    await redis.incr(`${key}:v`);
    stale();
    const first = await cache.get();
    expect(first).toEqual({ s: 2 });
    expect(cache.status().versions).toEqual({ s: '1' });
    stale();
    expect(await cache.get()).toBe(first);
  });
});
