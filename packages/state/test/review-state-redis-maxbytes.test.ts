/**
 * Review: `redisKey()` and `redisHash()` had no size limit — S3 sources have `maxBytes` and
 * `mongoQuery` has `limit` — so a key or hash grown by mistake was downloaded whole into the
 * function's memory. Now `maxBytes` bounds them: on a client with `eval` the size is checked on
 * the server (STRLEN; the hash's field and value bytes) and a value over the limit is never
 * sent; a reader without `eval` counts after reading and refuses. Against the shared Redis 7
 * and the shared Cluster.
 */
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, redisHash, redisKey } from '../src/index.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { clusterNodes } from '../../../test/support/redis.js';
import { redisClient, unique } from './support.js';

const signal = () => new AbortController().signal;

let redis: Redis;
const keys: string[] = [];
const key = (name: string) => {
  const k = unique(name);
  keys.push(k);
  return k;
};

beforeAll(async () => {
  redis = await redisClient();
});

afterAll(async () => {
  if (keys.length > 0) await redis?.del(...keys);
  await redis?.quit();
});

/** Bytes this client's socket received while `run` ran (the server's answers, as sent). */
async function bytesReceived(run: () => Promise<unknown>): Promise<number> {
  const socket = (redis as unknown as { stream: { bytesRead: number } }).stream;
  const before = socket.bytesRead;
  await run();
  return socket.bytesRead - before;
}

describe('maxBytes is checked when the source is defined', () => {
  it.each([0, -1, 1.5, Number.NaN, '100', Infinity])('refuses %s', (value) => {
    expectOptionRefused(() => redisKey({ client: redis, key: 'k', maxBytes: value as never }), 'redisKey', 'maxBytes', ['whole number of bytes']);
    expectOptionRefused(() => redisHash({ client: redis, key: 'k', maxBytes: value as never }), 'redisHash', 'maxBytes', ['whole number of bytes']);
  });
});

describe('redisKey({ maxBytes })', () => {
  it('loads a value of exactly maxBytes bytes, and refuses one byte more (bytes, not characters)', async () => {
    const k = key('exact');
    await redis.set(k, JSON.stringify('é'.repeat(49))); // 2 quotes + 98 bytes = 100
    expect((await redisKey({ client: redis, key: k, maxBytes: 100 }).load(signal())).value).toBe('é'.repeat(49));
    await redis.set(k, JSON.stringify(`${'é'.repeat(49)}x`));
    await expect(redisKey({ client: redis, key: k, maxBytes: 100 }).load(signal())).rejects.toMatchObject({
      name: 'SourceError',
      message: expect.stringMatching(/larger than maxBytes \(101 > 100\)/),
    });
  });

  it('refuses a 1 MB value without downloading it', async () => {
    const k = key('big');
    await redis.set(k, JSON.stringify('x'.repeat(1_000_000)));
    const source = redisKey({ client: redis, key: k, maxBytes: 1_000 });
    let failure: unknown;
    const received = await bytesReceived(() => source.load(signal()).catch((e: unknown) => (failure = e)));
    expect(failure).toMatchObject({ name: 'SourceError', message: expect.stringContaining('larger than maxBytes') });
    expect(received).toBeLessThan(10_000);
    // Without maxBytes the same value loads (and is downloaded): the limit is opt-in.
    expect(await bytesReceived(() => redisKey({ client: redis, key: k }).load(signal()))).toBeGreaterThan(1_000_000);
  });

  it('applies with versionKey, on revalidation too; a missing optional key is still undefined', async () => {
    const k = key('versioned');
    const v = key('versioned-v');
    await redis.set(k, '"small"');
    await redis.set(v, '1');
    const source = redisKey({ client: redis, key: k, versionKey: v, maxBytes: 50 });
    const first = await source.load(signal());
    expect(first).toEqual({ value: 'small', version: '1' });
    await redis.set(k, JSON.stringify('y'.repeat(100)));
    await redis.set(v, '2');
    await expect(source.revalidate!({ value: first.value, version: first.version }, signal())).rejects.toThrow(/larger than maxBytes/);
    expect((await redisKey({ client: redis, key: unique('absent'), optional: true, maxBytes: 10 }).load(signal())).value).toBeUndefined();
    await expect(redisKey({ client: redis, key: unique('absent'), maxBytes: 10 }).load(signal())).rejects.toThrow('key does not exist');
  });

  it('through defineState: STATE_UNAVAILABLE naming the source and the limit', async () => {
    const k = key('state');
    await redis.set(k, JSON.stringify({ blob: 'z'.repeat(500) }));
    const cache = defineState({ sources: { config: redisKey({ client: redis, key: k, maxBytes: 256 }) } });
    const failed = await cache.get().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toMatchObject({
      code: 'STATE_UNAVAILABLE',
      failures: [expect.objectContaining({ source: 'config', kind: 'load', message: expect.stringMatching(new RegExp(`^redis key ${k}: .*maxBytes \\(\\d+ > 256\\)`)) })],
    });
  });

  it('a reader without eval: counted after reading, and refused', async () => {
    const k = key('no-eval');
    await redis.set(k, JSON.stringify('w'.repeat(300)));
    const reader = { get: redis.get.bind(redis) as Redis['get'], hget: redis.hget.bind(redis) as Redis['hget'], hgetall: redis.hgetall.bind(redis) as Redis['hgetall'] };
    await expect(redisKey({ client: reader, key: k, maxBytes: 200 }).load(signal())).rejects.toThrow(/larger than maxBytes \(302 > 200\)/);
    expect((await redisKey({ client: reader, key: k, maxBytes: 302 }).load(signal())).value).toBe('w'.repeat(300));
  });
});

describe('redisHash({ maxBytes })', () => {
  it('counts the bytes of every field name and value; refuses over the limit without downloading', async () => {
    const h = key('hash');
    await redis.hset(h, { version: '3', name: 'ü'.repeat(10) }); // 7 + 1 + 4 + 20 = 32 bytes
    expect(await redisHash({ client: redis, key: h, versionField: 'version', maxBytes: 32 }).load(signal())).toEqual({ value: { version: '3', name: 'ü'.repeat(10) }, version: '3' });
    await expect(redisHash({ client: redis, key: h, maxBytes: 31 }).load(signal())).rejects.toThrow(/larger than maxBytes \(32 > 31\)/);

    await redis.hset(h, 'blob', 'b'.repeat(1_000_000));
    const source = redisHash({ client: redis, key: h, versionField: 'version', maxBytes: 1_000 });
    let failure: unknown;
    const received = await bytesReceived(() => source.load(signal()).catch((e: unknown) => (failure = e)));
    expect(failure).toMatchObject({ message: expect.stringContaining('larger than maxBytes') });
    expect(received).toBeLessThan(10_000);
  });

  it('a missing hash is still "does not exist" (or {} when optional); a reader without eval counts after reading', async () => {
    await expect(redisHash({ client: redis, key: unique('absent-hash'), maxBytes: 10 }).load(signal())).rejects.toThrow('hash does not exist');
    expect((await redisHash({ client: redis, key: unique('absent-hash'), maxBytes: 10, optional: true }).load(signal())).value).toEqual({});
    const h = key('hash-no-eval');
    await redis.hset(h, 'a', 'x'.repeat(50));
    const reader = { get: redis.get.bind(redis) as Redis['get'], hget: redis.hget.bind(redis) as Redis['hget'], hgetall: redis.hgetall.bind(redis) as Redis['hgetall'] };
    await expect(redisHash({ client: reader, key: h, maxBytes: 50 }).load(signal())).rejects.toThrow(/larger than maxBytes \(51 > 50\)/);
  });
});

const nodes = clusterNodes();

describe.skipIf(nodes.length === 0)('maxBytes on a Redis Cluster (needs REDIS_CLUSTER_NODES: the shared cluster)', () => {
  let cluster: Cluster;
  const clusterKeys: string[] = [];
  beforeAll(() => {
    cluster = new Cluster(nodes, { clusterRetryStrategy: () => null });
  });
  afterAll(async () => {
    for (const k of clusterKeys) await cluster?.del(k);
    await cluster?.quit();
  });

  it('redisKey and redisHash load under the limit and refuse over it, on every node', async () => {
    for (const name of ['a', 'b', 'c', 'd']) {
      const k = unique(`cluster-key-${name}`);
      const h = unique(`cluster-hash-${name}`);
      clusterKeys.push(k, h);
      await cluster.set(k, JSON.stringify({ n: name }));
      await cluster.hset(h, { n: name });
      expect((await redisKey({ client: cluster, key: k, maxBytes: 64 }).load(signal())).value).toEqual({ n: name });
      expect((await redisHash({ client: cluster, key: h, maxBytes: 64 }).load(signal())).value).toEqual({ n: name });
      await cluster.set(k, JSON.stringify({ n: 'q'.repeat(100) }));
      await cluster.hset(h, 'more', 'q'.repeat(100));
      await expect(redisKey({ client: cluster, key: k, maxBytes: 64 }).load(signal())).rejects.toThrow(/larger than maxBytes/);
      await expect(redisHash({ client: cluster, key: h, maxBytes: 64 }).load(signal())).rejects.toThrow(/larger than maxBytes/);
    }
  });
});
