/**
 * Replays of bug reports filed against peer configuration caches (middy's ssm/appconfig
 * middlewares, Powertools for AWS Lambda Parameters, hand-written SSM caches), run against
 * @steadyfn/state on the real Redis. Each `it` names the report it replays and what went wrong
 * there; the assertion is what a user of this package needs instead. The staleness contract runs
 * on a hand-moved clock (`defineState({ now })`), so no assertion depends on time passing.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StateError, defineState, redisKey, state } from '../src/index.js';
import { s3Json } from '../src/s3.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { startProxy, type Proxy } from '../../../test/support/proxy.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { createBucket, dropBucket, logLines, manualClock, redisClient, s3Client, unique, watchRedis, type RedisCommandLog } from './support.js';

let writer: Redis;

beforeAll(async () => {
  writer = await redisClient();
});

afterAll(async () => {
  writer?.disconnect();
});

/** A reader through a TCP proxy that can be cut: the store going down for real. */
async function readerBehindProxy(): Promise<{ reader: Redis; proxy: Proxy }> {
  const url = new URL(process.env.REDIS_URL!);
  const proxy = await startProxy(url.hostname, Number(url.port));
  const reader = await redisClient({ host: '127.0.0.1', port: proxy.port, failFast: true });
  reader.on('error', () => undefined);
  return { reader, proxy };
}

const configSchema = z.object({ config: z.object({ retries: z.number().int() }) });

describe('peer config-cache bug replays (Redis)', () => {
  it('middy#660 (https://github.com/middyjs/middy/issues/660): a parameter missing on the first fetch cached the error until expiry or redeploy, even after the parameter was added — here the failed load is not cached and the next invocation loads it', async () => {
    const key = unique('missing-then-added');
    const cache = defineState({ sources: { config: redisKey({ client: writer, key }) }, schema: configSchema, maxAgeMs: 3_600_000 });
    const failed = await cache.get().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(StateError);
    expect(failed).toMatchObject({ code: 'STATE_UNAVAILABLE', retryable: true });
    await writer.set(key, JSON.stringify({ retries: 3 }));
    // Within maxAgeMs of the failure, and nothing invalidated by hand.
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
    await writer.del(key);
  });

  it('powertools-lambda-python#561/#567 (https://github.com/aws-powertools/powertools-lambda-python/pull/567), raise_on_transform_error: a value that failed its transform was served or cached as-is — here data that fails the schema is refused (STATE_INVALID), never cached, and the corrected data loads on the next call', async () => {
    const key = unique('invalid-then-fixed');
    await writer.set(key, JSON.stringify({ retries: 'three' }));
    const cache = defineState({ sources: { config: redisKey({ client: writer, key }) }, schema: configSchema, maxAgeMs: 3_600_000 });
    const failed = await cache.get().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'STATE_INVALID' });
    expect(JSON.stringify((failed as StateError).failures)).not.toContain('three'); // the value is not echoed
    expect(cache.status().loaded).toBe(false);
    await writer.set(key, JSON.stringify({ retries: 3 }));
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
    await writer.del(key);
  });

  it('middy#660, second comment: clearing the cache when a refresh fails throws away a value that is still good — here, within staleIfErrorMs, the last good state is served while the store is down, and never past staleIfErrorMs', async () => {
    const key = unique('store-down');
    const versionKey = `${key}:v`;
    await writer.set(key, JSON.stringify({ retries: 1 }));
    await writer.set(versionKey, '1');
    const { reader, proxy } = await readerBehindProxy();
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { config: redisKey({ client: reader, key, versionKey }) },
      schema: configSchema,
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      retryAfterErrorMs: 1_000,
      timeoutMs: 5_000,
      now: clock.now,
      logger: log.logger,
    });
    const first = await cache.get();
    expect(first).toEqual({ config: { retries: 1 } });
    await proxy.cut(); // the store goes down
    clock.advance(2_000); // stale: the next get revalidates, and the revalidation fails
    expect(await cache.get()).toBe(first);
    expect(log.entries().some((e) => e.level === 'warn' && String(e.msg).includes('last good state'))).toBe(true);
    // Past staleIfErrorMs with the store still unreachable, the old state is no longer served.
    clock.advance(120_000);
    try {
      await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    } finally {
      reader.disconnect();
      await writer.del(key, versionKey);
    }
  });

  it('middy#660 follow-up: after a failed refresh the cache must try again, not stay stale — here, once the store is back, the next revalidation after retryAfterErrorMs replaces the last good state with the new value', async () => {
    const key = unique('recover');
    const versionKey = `${key}:v`;
    await writer.set(key, JSON.stringify({ retries: 1 }));
    await writer.set(versionKey, '1');
    const url = new URL(process.env.REDIS_URL!);
    const proxy = await startProxy(url.hostname, Number(url.port));
    // Reconnects on its own once the proxy listens again on the same port.
    const reader = new Redis({ host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
    reader.on('error', () => undefined);
    const clock = manualClock();
    const cache = defineState({
      sources: { config: redisKey({ client: reader, key, versionKey }) },
      schema: configSchema,
      maxAgeMs: 1_000,
      staleIfErrorMs: 600_000,
      retryAfterErrorMs: 1_000,
      timeoutMs: 5_000,
      now: clock.now,
      logger: logLines().logger,
    });
    let relay: Proxy | undefined;
    try {
      await new Promise<void>((resolve) => reader.once('ready', () => resolve()));
      expect(await cache.get()).toEqual({ config: { retries: 1 } });
      await proxy.cut();
      clock.advance(2_000);
      expect(await cache.get()).toEqual({ config: { retries: 1 } }); // served stale
      expect(cache.status().lastError).toBeDefined();
      relay = await listenAgain(proxy.port, url);
      await writer.set(key, JSON.stringify({ retries: 7 }));
      await writer.incr(versionKey);
      await new Promise<void>((resolve) => (reader.status === 'ready' ? resolve() : reader.once('ready', () => resolve())));
      clock.advance(1_500); // past retryAfterErrorMs
      expect(await cache.get()).toEqual({ config: { retries: 7 } });
      expect(cache.status().fresh).toBe(true);
    } finally {
      reader.disconnect();
      await relay?.cut();
      await writer.del(key, versionKey);
    }
  });

  it('powertools-lambda-python#561/#567, on a refresh: a refreshed value that failed its transform replaced the good one — here data that fails the schema on revalidation is refused, the last good state is served (staleIfErrorMs), and the corrected data is loaded on the next try even when the writer did not bump the version again', async () => {
    const key = unique('invalid-refresh');
    const versionKey = `${key}:v`;
    await writer.set(key, JSON.stringify({ retries: 1 }));
    await writer.set(versionKey, '1');
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { config: redisKey({ client: writer, key, versionKey }) },
      schema: configSchema,
      maxAgeMs: 1_000,
      staleIfErrorMs: 600_000,
      retryAfterErrorMs: 1_000,
      now: clock.now,
      logger: log.logger,
    });
    try {
      const good = await cache.get();
      await writer.set(key, JSON.stringify({ retries: 'many' }));
      await writer.incr(versionKey);
      clock.advance(2_000);
      expect(await cache.get()).toBe(good);
      const warning = log.entries().find((e) => e.level === 'warn');
      expect(JSON.stringify(warning)).toContain('config.retries');
      expect(JSON.stringify(warning)).not.toContain('many');
      await writer.set(key, JSON.stringify({ retries: 4 })); // fixed; version left at 2
      clock.advance(1_500);
      expect(await cache.get()).toEqual({ config: { retries: 4 } });
    } finally {
      await writer.del(key, versionKey);
    }
  });

  it('powertools-lambda-python#5482 (https://github.com/aws-powertools/powertools-lambda-python/issues/5482): force_fetch=True still returned the old cached value — here invalidate() makes the next get() read the store, even inside maxAgeMs', async () => {
    const key = unique('force');
    await writer.set(key, JSON.stringify({ retries: 1 }));
    const cache = defineState({ sources: { config: redisKey({ client: writer, key }) }, schema: configSchema, maxAgeMs: 3_600_000 });
    expect(await cache.get()).toEqual({ config: { retries: 1 } });
    await writer.set(key, JSON.stringify({ retries: 2 }));
    expect(await cache.get()).toEqual({ config: { retries: 1 } }); // inside maxAgeMs: cached, as promised
    cache.invalidate();
    expect(await cache.get()).toEqual({ config: { retries: 2 } });
    await writer.del(key);
  });

  it('powertools-lambda-typescript#5623 (https://github.com/aws-powertools/powertools-lambda-typescript/pull/5623): calls that differed in options (decrypt, transform) shared a cache entry and got each other\'s value — here two states on the same key with different decoding each get their own value', async () => {
    const key = unique('options');
    await writer.set(key, JSON.stringify({ retries: 4 }));
    const parsed = defineState({ sources: { config: redisKey({ client: writer, key }) }, schema: configSchema });
    const text = defineState({ sources: { config: redisKey({ client: writer, key, decode: 'text' }) }, schema: z.object({ config: z.string() }) });
    expect(await parsed.get()).toEqual({ config: { retries: 4 } });
    expect(await text.get()).toEqual({ config: JSON.stringify({ retries: 4 }) });
    await writer.del(key);
  });

  it('theburningmonk/lambda-config-demo#1 (https://github.com/theburningmonk/lambda-config-demo/issues/1): every concurrent caller fired its own getParameters while the first fetch was in flight — here 20 concurrent cold invocations share one load: one GET reaches Redis', async () => {
    const key = unique('herd');
    await writer.set(key, JSON.stringify({ retries: 5 }));
    const reader = await redisClient();
    let watch: RedisCommandLog | undefined;
    try {
      watch = await watchRedis(reader);
      await watch.take();
      const cache = defineState({ sources: { config: redisKey({ client: reader, key }) }, schema: configSchema });
      const states = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
      expect(new Set(states).size).toBe(1);
      expect(states[0]).toEqual({ config: { retries: 5 } });
      const gets = (await watch.take()).filter((args) => args[0]?.toLowerCase() === 'get');
      expect(gets).toHaveLength(1);
    } finally {
      await watch?.stop();
      reader.disconnect();
      await writer.del(key);
    }
  });

  it('middy#660 (https://github.com/middyjs/middy/issues/660), on a reload: with staleIfErrorMs 0 a failed revalidation is thrown — and not remembered: once the data is back, the very next get() loads it without waiting for any expiry', async () => {
    const key = unique('reload-failure');
    const versionKey = `${key}:v`;
    await writer.set(key, JSON.stringify({ retries: 1 }));
    await writer.set(versionKey, '1');
    const clock = manualClock();
    const cache = defineState({ sources: { config: redisKey({ client: writer, key, versionKey }) }, schema: configSchema, maxAgeMs: 1_000, now: clock.now, logger: logLines().logger });
    try {
      expect(await cache.get()).toEqual({ config: { retries: 1 } });
      await writer.del(key, versionKey); // the parameter disappears
      clock.advance(1_500);
      await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
      await writer.set(key, JSON.stringify({ retries: 2 }));
      await writer.set(versionKey, '2');
      // Same instant on the clock: nothing has expired since the failure.
      expect(await cache.get()).toEqual({ config: { retries: 2 } });
    } finally {
      await writer.del(key, versionKey);
    }
  });

  it('theburningmonk/lambda-config-demo#1 (https://github.com/theburningmonk/lambda-config-demo/issues/1), on expiry: 20 concurrent invocations that find the state stale share one revalidation — one GET of the version key, no reload', async () => {
    const key = unique('stale-herd');
    const versionKey = `${key}:v`;
    await writer.set(key, JSON.stringify({ retries: 6 }));
    await writer.set(versionKey, '1');
    const reader = await redisClient();
    const clock = manualClock();
    let watch: RedisCommandLog | undefined;
    try {
      const cache = defineState({ sources: { config: redisKey({ client: reader, key, versionKey }) }, schema: configSchema, maxAgeMs: 1_000, now: clock.now });
      const first = await cache.get();
      watch = await watchRedis(reader);
      await watch.take();
      clock.advance(5_000);
      const states = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
      for (const state of states) expect(state).toBe(first); // unchanged: the same frozen object
      const commands = await watch.take();
      expect(commands.map((c) => [c[0]!.toLowerCase(), c[1]])).toEqual([['get', versionKey]]);
    } finally {
      await watch?.stop();
      reader.disconnect();
      await writer.del(key, versionKey);
    }
  });

  it('open-jii#1313 (https://github.com/Jan-IngenHousz-Institute/open-jii/pull/1313): a fetch that failed during a cold start was memoised and poisoned the instance for its lifetime — here a first load abandoned by its invocation\'s deadline leaves nothing behind, and the next invocation loads the state', async () => {
    const key = unique('abandoned');
    await writer.set(key, JSON.stringify({ retries: 8 }));
    const url = new URL(process.env.REDIS_URL!);
    const slow = await startProxy(url.hostname, Number(url.port), 150); // a store 300 ms away per round trip
    const reader = await redisClient({ host: '127.0.0.1', port: slow.port });
    try {
      const cache = defineState({ sources: { config: redisKey({ client: reader, key }) }, schema: configSchema, maxAgeMs: 3_600_000 });
      await expect(cache.get({ signal: AbortSignal.timeout(20) })).rejects.toBeDefined();
      expect(cache.status().loaded).toBe(false);
      expect(await cache.get()).toEqual({ config: { retries: 8 } });
    } finally {
      reader.disconnect();
      await slow.cut();
      await writer.del(key);
    }
  });

  it('middy#661 (https://github.com/middyjs/middy/issues/661): two ssm middlewares on one function clobbered each other through a shared internal cache key, the second always undefined — here two state plugins on one handler, under two ctx keys, each give their own state', async () => {
    const a = unique('two-a');
    const b = unique('two-b');
    await writer.set(a, JSON.stringify({ retries: 1 }));
    await writer.set(b, JSON.stringify({ retries: 2 }));
    try {
      const config = defineState({ sources: { config: redisKey({ client: writer, key: a }) }, schema: configSchema, maxAgeMs: 3_600_000 });
      const limits = defineState({ sources: { config: redisKey({ client: writer, key: b }) }, schema: configSchema, maxAgeMs: 1_000 });
      const main = handler({ use: [state(config, { key: 'config' }), state(limits, { key: 'limits' })], logSink: () => undefined }, async (_input: unknown, ctx) => ({
        config: ctx.config.config.retries,
        limits: ctx.limits.config.retries,
      }));
      expect(await main.invoke({})).toEqual({ config: 1, limits: 2 });
      expect(await main.invoke({})).toEqual({ config: 1, limits: 2 });
    } finally {
      await writer.del(a, b);
    }
  });

  it('middy#558 (https://github.com/middyjs/middy/issues/558): state kept on the shared handler instance was clobbered by a concurrent invocation — here concurrent invocations share one frozen state: one that tries to change it fails, and the other still reads what the store holds', async () => {
    const key = unique('shared');
    await writer.set(key, JSON.stringify({ retries: 3, nested: { level: 1 } }));
    try {
      const cache = defineState({
        sources: { config: redisKey({ client: writer, key }) },
        schema: z.object({ config: z.object({ retries: z.number(), nested: z.object({ level: z.number() }) }) }),
        maxAgeMs: 3_600_000,
      });
      const main = handler({ use: [state(cache)], logSink: () => undefined }, async (input: unknown, ctx) => {
        if ((input as { mutate: boolean }).mutate) {
          try {
            (ctx.state.config as { retries: number }).retries = 99;
            (ctx.state.config.nested as { level: number }).level = 99;
          } catch (error) {
            return { refused: (error as Error).name };
          }
          return { refused: 'no' };
        }
        await new Promise((r) => setTimeout(r, 10));
        return { retries: ctx.state.config.retries, level: ctx.state.config.nested.level };
      });
      const [mutator, reader] = await Promise.all([main.invoke({ mutate: true }), main.invoke({ mutate: false })]);
      expect(mutator).toEqual({ refused: 'TypeError' });
      expect(reader).toEqual({ retries: 3, level: 1 });
      expect(await main.invoke({ mutate: false })).toEqual({ retries: 3, level: 1 });
    } finally {
      await writer.del(key);
    }
  });
});

describe.each([
  ['moto', 'S3_ENDPOINT'],
  ['gofakes3', 'S3_ALT_ENDPOINT'],
] as const)('peer config-cache bug replays (S3 on %s)', (_server, endpointVar) => {
  it('powertools-lambda-java#1672 / #1981 (https://github.com/aws-powertools/powertools-lambda-java/issues/1981) and powertools-lambda-typescript#1363: the "nothing changed" answer (an empty AppConfig body) was returned as the configuration — here the 304 of a conditional GET keeps the cached state, the same object, and a changed object replaces it', async () => {
    const s3 = s3Client(process.env[endpointVar]!);
    const bucket = `peer-${unique('unchanged')}`.toLowerCase().slice(0, 60);
    await createBucket(s3.client, bucket);
    const clock = manualClock();
    try {
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', Body: JSON.stringify({ retries: 1 }) }));
      const cache = defineState({ sources: { config: s3Json({ client: s3.client, bucket, key: 'config.json' }) }, schema: configSchema, maxAgeMs: 1_000, now: clock.now });
      const first = await cache.get();
      expect(first).toEqual({ config: { retries: 1 } });
      s3.take();
      clock.advance(2_000);
      expect(await cache.get()).toBe(first); // unchanged: the value kept, not the empty answer
      expect(s3.take()).toEqual([{ command: 'GetObjectCommand', status: 304 }]);
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', Body: JSON.stringify({ retries: 2 }) }));
      clock.advance(2_000);
      expect(await cache.get()).toEqual({ config: { retries: 2 } });
    } finally {
      await dropBucket(s3.client, bucket);
      s3.client.destroy();
    }
  });
});

describe('peer config-cache bug replays: a hung store', () => {
  let own: OwnServer & { url: string };
  let client: Redis;
  beforeAll(async () => {
    own = await startRedis();
    client = new Redis(own.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await own?.dispose();
  });

  it('middy#608 (https://github.com/middyjs/middy/issues/608) and aws-sdk-js-v3#2510: the function timed out because the parameter fetch hung — here a load from a hung store answers at the invocation\'s deadline (504 DEADLINE_EXCEEDED, retryable), outside an invocation at timeoutMs naming the source, and the next invocation after the store recovers loads the state', async () => {
    await client.set('config', JSON.stringify({ retries: 9 }));
    const cache = defineState({ sources: { config: redisKey({ client, key: 'config' }) }, schema: configSchema, maxAgeMs: 3_600_000, timeoutMs: 1_500 });
    const main = handler({ use: [state(cache)], logSink: () => undefined }, async (_input: unknown, ctx) => ({ retries: ctx.state.config.retries }));
    const call = async (deadlineMs: number) => {
      const deadline = Date.now() + deadlineMs;
      const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
      const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
    };
    own.freeze(); // accepts bytes, answers nothing
    try {
      expect(await call(1_200)).toMatchObject({ status: 504, body: { code: 'DEADLINE_EXCEEDED' } });
      const outside = await cache.get().then(
        () => undefined,
        (error: unknown) => error as StateError,
      );
      expect(outside).toMatchObject({ code: 'STATE_UNAVAILABLE' });
      expect(outside!.failures).toEqual([expect.objectContaining({ source: 'config', kind: 'load' })]);
      expect(outside!.failures[0]!.message).toMatch(/timed out/);
    } finally {
      own.thaw();
    }
    expect(await call(10_000)).toMatchObject({ status: 200, body: { retries: 9 } });
  });
});

/** A plain TCP relay listening again on `port` (the cut proxy's), to the real Redis. */
async function listenAgain(port: number, target: URL): Promise<Proxy> {
  const { createServer, connect } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((inbound) => {
    const outbound = connect({ host: target.hostname, port: Number(target.port) });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    async cut() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
