/**
 * The whole state from four real stores: Redis 7, FerretDB (MongoDB wire protocol) and moto
 * (S3), plus environment variables. Store calls are counted as the stores saw them: Redis
 * MONITOR, MongoDB command monitoring, and an S3 SDK middleware that sees each HTTP attempt.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  TEST_DB,
  dropBucket,
  logLines,
  manualClock,
  redisClient,
  runId,
  unique,
  openWatchedStores,
  type MongoCommandLog,
  type RedisCommandLog,
  type S3RequestLog,
} from '../test/support.js';
import { startProxy } from '../../../test/support/proxy.js';
import { defineState, envVars, mongoQuery, redisHash, state, StateError, type StateSource } from './index.js';
import { s3Json } from './s3.js';

const schema = z.object({
  config: z.object({ retries: z.number().int(), endpoints: z.array(z.string()) }),
  flags: z.object({ newCheckout: z.stringbool(), maxItems: z.coerce.number().int().positive() }),
  plans: z.array(z.object({ name: z.string(), price: z.number() })),
  env: z.object({ REGION: z.string() }),
});

let redis: Redis;
let redisLog: RedisCommandLog;
let mongo: MongoCommandLog;
let db: Db;
let s3: S3RequestLog;
const bucket = unique('bucket');
const plansCollection = unique('plans');
const metaCollection = unique('meta');
const envPrefix = `STEADYFN_${runId}_`;

beforeAll(async () => {
  ({ redis, redisLog, mongo, db, s3 } = await openWatchedStores(bucket));
  process.env[`${envPrefix}REGION`] = 'eu-west-1';
});

afterAll(async () => {
  delete process.env[`${envPrefix}REGION`];
  await redisLog?.stop();
  await redis?.quit();
  await db?.collection(plansCollection).drop().catch(() => undefined);
  await db?.collection(metaCollection).drop().catch(() => undefined);
  await mongo?.client.close();
  if (s3) await dropBucket(s3.client, bucket).catch(() => undefined);
});

/** Fresh data under fresh names for one test. */
async function seed() {
  const configKey = unique('config.json');
  const flagsKey = unique('flags');
  const planFilter = { tenant: unique('tenant') };
  const versionId = unique('plans-version');
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: configKey, Body: JSON.stringify({ retries: 3, endpoints: ['a', 'b'] }) }));
  await redis.hset(flagsKey, { newCheckout: 'true', maxItems: '25', version: '1' });
  await db.collection(plansCollection).insertMany([
    { ...planFilter, name: 'free', price: 0 },
    { ...planFilter, name: 'pro', price: 20 },
  ]);
  await db.collection<{ _id: string; v: number }>(metaCollection).insertOne({ _id: versionId, v: 1 });
  // Seeding is not what the tests count.
  await redisLog.take();
  mongo.take();
  s3.take();
  return { configKey, flagsKey, planFilter, versionId };
}

type Seeded = Awaited<ReturnType<typeof seed>>;

function sourcesFor(seeded: Seeded, redisClientForFlags: Redis = redis) {
  return {
    config: s3Json({ client: s3.client, bucket, key: seeded.configKey }),
    flags: redisHash({ client: redisClientForFlags, key: seeded.flagsKey, versionField: 'version' }),
    plans: mongoQuery({
      client: mongo.client,
      db: TEST_DB,
      collection: plansCollection,
      filter: seeded.planFilter,
      sort: { price: 1 },
      projection: { _id: 0, name: 1, price: 1 },
      versionDocument: { collection: metaCollection, filter: { _id: seeded.versionId }, field: 'v' },
    }),
    env: envVars({ prefix: envPrefix }),
  };
}

/** Every call each store received since the last look. */
async function storeCalls() {
  return {
    redis: (await redisLog.take()).map((args) => args[0]!.toLowerCase()),
    mongo: mongo.take([plansCollection, metaCollection]).map((c) => `${c.name} ${String(c.collection).split('-')[1]}`),
    s3: s3.take().map((r) => `${r.command} ${r.status}`),
  };
}

const expected = {
  config: { retries: 3, endpoints: ['a', 'b'] },
  flags: { newCheckout: true, maxItems: 25 },
  plans: [
    { name: 'free', price: 0 },
    { name: 'pro', price: 20 },
  ],
  env: { REGION: 'eu-west-1' },
};

describe('state from Redis, MongoDB, S3 and env', () => {
  it('loads the four sources in one parallel round, each store asked once', async () => {
    const seeded = await seed();
    const order: string[] = [];
    const track = <T>(name: string, source: StateSource<T>): StateSource<T> => ({
      ...source,
      load: (signal) => {
        order.push(`start ${name}`);
        return source.load(signal).finally(() => order.push(`end ${name}`));
      },
    });
    const s = sourcesFor(seeded);
    const cache = defineState({
      sources: { config: track('config', s.config), flags: track('flags', s.flags), plans: track('plans', s.plans), env: track('env', s.env) },
      schema,
    });
    expect(await cache.get()).toEqual(expected);
    expect(order.slice(0, 4)).toEqual(['start config', 'start flags', 'start plans', 'start env']);
    expect(await storeCalls()).toEqual({
      redis: ['hgetall'],
      // The version document first, then the query, so the data is never older than its version.
      mongo: ['find meta', 'find plans'],
      s3: ['GetObjectCommand 200'],
    });
  });

  it('lets concurrent invocations share one load: the stores see it once', async () => {
    const seeded = await seed();
    const cache = defineState({ sources: sourcesFor(seeded), schema });
    const main = handler({ use: [state(cache)], logSink: () => undefined }, async (_input, ctx) => ctx.state);
    const states = await Promise.all(Array.from({ length: 5 }, () => main.invoke({})));
    expect(new Set(states).size).toBe(1);
    expect(await storeCalls()).toEqual({ redis: ['hgetall'], mongo: ['find meta', 'find plans'], s3: ['GetObjectCommand 200'] });
  });

  it('names the one invalid source and path in an aggregated error', async () => {
    const seeded = await seed();
    await redis.hset(seeded.flagsKey, 'maxItems', 'many');
    await redisLog.take();
    const cache = defineState({ sources: sourcesFor(seeded), schema });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error).toBeInstanceOf(StateError);
    expect(error.code).toBe('STATE_INVALID');
    expect(error.failures).toEqual([expect.objectContaining({ source: 'flags', kind: 'invalid', field: 'flags.maxItems', expected: 'number' })]);
  });

  it('aggregates a missing object and an invalid field together', async () => {
    const seeded = await seed();
    await redis.hset(seeded.flagsKey, 'maxItems', '-1');
    const cache = defineState({ sources: { ...sourcesFor(seeded), config: s3Json({ client: s3.client, bucket, key: unique('missing.json') }) }, schema });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error.code).toBe('STATE_UNAVAILABLE');
    expect(error.failures).toEqual([
      expect.objectContaining({ source: 'config', kind: 'load', message: expect.stringContaining('object does not exist') }),
      expect.objectContaining({ source: 'flags', kind: 'invalid', field: 'flags.maxItems' }),
    ]);
    expect(error.failures[0]!.message).toContain(`s3://${bucket}/`);
  });

  it('serves a warm invocation inside maxAge with zero store calls, as typed ctx.state', async () => {
    const seeded = await seed();
    const clock = manualClock();
    const cache = defineState({ sources: sourcesFor(seeded), schema, maxAgeMs: 30_000, now: clock.now });
    const main = handler({ use: [state(cache)], logSink: () => undefined }, async (_input, ctx) => {
      expectTypeOf(ctx.state.flags.maxItems).toEqualTypeOf<number>();
      expectTypeOf(ctx.state.config.endpoints).toEqualTypeOf<ReadonlyArray<string>>();
      return { maxItems: ctx.state.flags.maxItems, plans: ctx.state.plans.length, frozen: Object.isFrozen(ctx.state.plans) };
    });
    await expect(main.invoke({})).resolves.toEqual({ maxItems: 25, plans: 2, frozen: true });
    await storeCalls();
    clock.advance(29_999);
    await expect(main.invoke({})).resolves.toEqual({ maxItems: 25, plans: 2, frozen: true });
    expect(await storeCalls()).toEqual({ redis: [], mongo: [], s3: [] });
  });

  it('after maxAge with unchanged data: one conditional request per store, no reload', async () => {
    const seeded = await seed();
    const clock = manualClock();
    const cache = defineState({ sources: sourcesFor(seeded), schema, maxAgeMs: 30_000, now: clock.now });
    const first = await cache.get();
    await storeCalls();
    clock.advance(30_000);
    expect(await cache.get()).toBe(first);
    expect(await storeCalls()).toEqual({ redis: ['hget'], mongo: ['find meta'], s3: ['GetObjectCommand 304'] });
    // The revalidation restarted maxAge.
    clock.advance(29_999);
    await cache.get();
    expect(await storeCalls()).toEqual({ redis: [], mongo: [], s3: [] });
  });

  it('after maxAge with changed data: reloads what changed', async () => {
    const seeded = await seed();
    const clock = manualClock();
    const cache = defineState({ sources: sourcesFor(seeded), schema, maxAgeMs: 30_000, now: clock.now });
    await cache.get();
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: seeded.configKey, Body: JSON.stringify({ retries: 5, endpoints: ['c'] }) }));
    await redis.multi().hset(seeded.flagsKey, 'maxItems', '50').hincrby(seeded.flagsKey, 'version', 1).exec();
    await db.collection(plansCollection).updateOne({ ...seeded.planFilter, name: 'pro' }, { $set: { price: 25 } });
    await db.collection<{ _id: string; v: number }>(metaCollection).updateOne({ _id: seeded.versionId }, { $inc: { v: 1 } });
    await storeCalls();
    clock.advance(30_000);
    expect(await cache.get()).toEqual({
      ...expected,
      config: { retries: 5, endpoints: ['c'] },
      flags: { newCheckout: true, maxItems: 50 },
      plans: [
        { name: 'free', price: 0 },
        { name: 'pro', price: 25 },
      ],
    });
    expect(await storeCalls()).toEqual({
      redis: ['hget', 'hgetall'],
      mongo: ['find meta', 'find plans'],
      // The conditional GET brought the new object itself: one request.
      s3: ['GetObjectCommand 200'],
    });
  });

  it('with a store down and staleIfErrorMs: the last good state and a warning, then the failure', async () => {
    const seeded = await seed();
    const url = new URL(process.env.REDIS_URL!);
    const proxy = await startProxy(url.hostname, Number(url.port));
    const viaProxy = await redisClient({ port: proxy.port, failFast: true });
    try {
      const clock = manualClock();
      const log = logLines();
      const cache = defineState({
        sources: sourcesFor(seeded, viaProxy),
        schema,
        maxAgeMs: 30_000,
        staleIfErrorMs: 60_000,
        now: clock.now,
        logger: log.logger,
      });
      const good = await cache.get();
      await proxy.cut();
      clock.advance(30_000);
      expect(await cache.get()).toBe(good);
      const warning = log.entries().find((e) => e.level === 'warn');
      expect(warning).toMatchObject({ msg: 'serving the last good state: reload failed', code: 'STATE_UNAVAILABLE' });
      expect(warning?.failures).toEqual([expect.objectContaining({ field: 'flags' })]);
      clock.advance(60_000);
      const error = (await cache.get().catch((e: unknown) => e)) as StateError;
      expect(error.code).toBe('STATE_UNAVAILABLE');
      expect(error.failures.map((f) => f.source)).toEqual(['flags']);
    } finally {
      viaProxy.disconnect();
    }
  });
});
