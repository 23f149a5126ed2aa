/**
 * 1. Cold load of four sources (S3 JSON, Redis hash, MongoDB query, env) against the slowest of
 *    them loaded alone, in the same run. Goal: ≤ 1.2× (the sources load in parallel). Measured
 *    twice: with the stores on this machine, and with each store behind a proxy that holds
 *    every chunk 5 ms each way (a store across a network). Each run also times the bare drivers
 *    in one Promise.all, which is what parallel loading can reach on this machine at best.
 * 2. Store calls per warm invocation inside maxAge, counted where the stores see them (Redis
 *    MONITOR, MongoDB command monitoring, an S3 SDK middleware). Goal: 0.
 *
 *   bash test/services/services.sh start && pnpm vitest bench --run packages/state/bench
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { afterAll, test, type TestContext } from 'vitest';
import { z } from 'zod';
import { requireService } from '../../../test/services/env.js';
import { recordBench } from '../../../test/support/bench-results.js';
import { defineState, envVars, mongoQuery, redisHash, state, type StateSource } from '../src/index.js';
import { s3Json } from '../src/s3.js';
import { TEST_DB, createBucket, dropBucket, mongoClient, redisClient, runId, s3Client, unique, watchRedis } from '../test/support.js';
import { startProxy, type Proxy } from '../../../test/support/proxy.js';

await Promise.all([requireService('redis'), requireService('mongodb'), requireService('s3')]);
const redis = await redisClient();
const redisLog = await watchRedis(redis);
const mongo = await mongoClient();
const s3 = s3Client();
const bucket = unique('bench');
const configKey = 'config.json';
const flagsKey = unique('flags');
const plansCollection = unique('plans');
const envPrefix = `BENCH_${runId}_`;

// Realistic sizes: a 40 KB JSON config, a 100-field flag hash, 100 plan documents.
await createBucket(s3.client, bucket);
const config = { retries: 3, routes: Array.from({ length: 400 }, (_, i) => ({ path: `/route/${i}`, target: `svc-${i % 7}`, weight: i % 10 })) };
await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: configKey, Body: JSON.stringify(config) }));
await redis.hset(flagsKey, Object.fromEntries([['version', '1'], ...Array.from({ length: 99 }, (_, i) => [`flag${i}`, i % 2 ? 'true' : 'false'])]));
await mongo.client
  .db(TEST_DB)
  .collection(plansCollection)
  .insertMany(Array.from({ length: 100 }, (_, i) => ({ name: `plan-${i}`, price: i * 10, features: ['a', 'b', 'c'] })));
process.env[`${envPrefix}REGION`] = 'eu-west-1';

interface Clients {
  s3: S3Client;
  redis: Redis;
  mongo: MongoClient;
}
const local: Clients = { s3: s3.client, redis, mongo: mongo.client };

// The same stores, each behind a proxy holding every chunk 5 ms each way.
const DELAY_MS = 5;
const proxies: Proxy[] = [];
async function remote(): Promise<Clients> {
  const redisUrl = new URL(process.env.REDIS_URL!);
  const mongoUrl = new URL(process.env.MONGODB_URI!);
  const s3Url = new URL(process.env.S3_ENDPOINT!);
  const [r, m, s] = await Promise.all([
    startProxy(redisUrl.hostname, Number(redisUrl.port), DELAY_MS),
    startProxy(mongoUrl.hostname, Number(mongoUrl.port), DELAY_MS),
    startProxy(s3Url.hostname, Number(s3Url.port), DELAY_MS),
  ]);
  proxies.push(r, m, s);
  return {
    redis: await redisClient({ port: r.port }),
    mongo: (await mongoClient(`mongodb://127.0.0.1:${m.port}/?directConnection=true`)).client,
    s3: s3Client(`http://127.0.0.1:${s.port}`).client,
  };
}

const sourcesOf = (c: Clients) => ({
  config: s3Json({ client: c.s3, bucket, key: configKey }),
  flags: redisHash({ client: c.redis, key: flagsKey, versionField: 'version' }),
  plans: mongoQuery({ client: c.mongo, db: TEST_DB, collection: plansCollection, projection: { _id: 0 } }),
  env: envVars({ prefix: envPrefix }),
});

/** The same four reads with the drivers alone, in one Promise.all. */
const bareLoad = (c: Clients) =>
  Promise.all([
    c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: configKey })).then(async (r) => JSON.parse(await r.Body!.transformToString())),
    c.redis.hgetall(flagsKey),
    c.mongo.db(TEST_DB).collection(plansCollection).find({}, { projection: { _id: 0 } }).toArray(),
    Object.keys(process.env).filter((k) => k.startsWith(envPrefix)),
  ]);

const p50 = (result: unknown): number => (result as { latency: { p50?: number } }).latency.p50 ?? Number.NaN;
const runOptions = { time: 1_500, warmupTime: 200 };
const SINGLES = ['config (S3) alone', 'flags (Redis) alone', 'plans (MongoDB) alone', 'env alone'] as const;

async function coldLoad(bench: TestContext['bench'], label: string, c: Clients, key: string): Promise<void> {
  const s = sourcesOf(c);
  const one = (source: StateSource) => async () => {
    await defineState({ sources: { only: source } }).get();
  };
  const results = await bench.compare(
    bench('4 sources in parallel', async () => {
      await defineState({ sources: sourcesOf(c) }).get();
    }),
    bench('bare drivers, Promise.all', async () => {
      await bareLoad(c);
    }),
    bench('config (S3) alone', one(s.config)),
    bench('flags (Redis) alone', one(s.flags)),
    bench('plans (MongoDB) alone', one(s.plans)),
    bench('env alone', one(s.env)),
    runOptions,
  );
  const together = p50(results.get('4 sources in parallel'));
  const bare = p50(results.get('bare drivers, Promise.all'));
  const singles = SINGLES.map((name) => ({ name, ms: p50(results.get(name)) }));
  const slowest = singles.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(`[bench] ${label}: cold load p50 4 sources ${together.toFixed(2)} ms; ${singles.map((x) => `${x.name} ${x.ms.toFixed(2)} ms`).join(', ')}; bare drivers ${bare.toFixed(2)} ms`);
  console.log(`[bench] ${label}: cold load of 4 sources = ${(together / slowest.ms).toFixed(2)}× the slowest single source, ${slowest.name} (goal ≤ 1.2×)`);
  recordBench({ key, value: together / slowest.ms, unit: '×', detail: `${label}: 4 sources (S3 JSON, Redis hash, MongoDB query, env) p50 ${together.toFixed(2)} ms vs the slowest alone, ${slowest.name}, ${slowest.ms.toFixed(2)} ms; bare drivers in one Promise.all ${(bare / slowest.ms).toFixed(2)}×` });
  console.log(`[bench] ${label}: bare drivers in one Promise.all = ${(bare / slowest.ms).toFixed(2)}× the slowest (this machine's floor); defineState = ${(together / bare).toFixed(2)}× the bare drivers`);
}

test('cold load, stores on this machine', async ({ bench }) => {
  await coldLoad(bench, 'local stores', local, 'state.cold.local');
});

test(`cold load, stores ${DELAY_MS} ms away each way`, async ({ bench }) => {
  await coldLoad(bench, `stores ${DELAY_MS} ms away`, await remote(), 'state.cold.remote');
});

test('store calls per warm invocation inside maxAge', async ({ bench }) => {
  const cache = defineState({
    sources: sourcesOf(local),
    schema: z.object({ config: z.object({ retries: z.number() }).loose(), flags: z.record(z.string(), z.string()), plans: z.array(z.unknown()), env: z.object({ REGION: z.string() }) }),
    maxAgeMs: 60 * 60_000,
  });
  const main = handler({ use: [state(cache)], logSink: () => undefined }, async (_input, ctx) => ctx.state.config.retries);
  await main.invoke({});
  await redisLog.take();
  mongo.take();
  s3.take();
  let invocations = 0;
  const result = await bench('handler with ctx.state, inside maxAge', async () => {
    invocations++;
    await main.invoke({});
  }).run(runOptions);
  const calls = (await redisLog.take()).length + mongo.take([plansCollection]).length + s3.take().length;
  console.log(`[bench] warm invocation p50 ${(p50(result) * 1000).toFixed(2)} µs`);
  console.log(`[bench] store calls per warm invocation: ${(calls / Math.max(1, invocations)).toFixed(3)} (${calls} calls over ${invocations} invocations; goal 0)`);
  recordBench({ key: 'state.warm.calls', value: calls / Math.max(1, invocations), unit: 'calls', detail: `store calls per warm invocation inside maxAge, counted by the stores (Redis MONITOR, MongoDB command monitoring, S3 middleware): ${calls} over ${invocations} invocations; warm p50 ${(p50(result) * 1000).toFixed(2)} µs` });
});

afterAll(async () => {
  delete process.env[`${envPrefix}REGION`];
  await redisLog.stop();
  await redis.del(flagsKey);
  await redis.quit();
  await mongo.client.db(TEST_DB).collection(plansCollection).drop().catch(() => undefined);
  await mongo.client.close();
  await dropBucket(s3.client, bucket).catch(() => undefined);
  for (const proxy of proxies) await proxy.cut();
});
