/** Redis sources against a real Redis 7 (and the 3-master Redis Cluster). */
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../../test/services/env.js';
import { redisClient, unique, watchRedis, type RedisCommandLog } from '../../test/support.js';
import { SourceError } from '../errors.js';
import { defineState, redisHash, redisKey, type StateError } from '../index.js';

let redis: Redis;
let log: RedisCommandLog;
const keys: string[] = [];
const key = (name: string) => {
  const k = unique(name);
  keys.push(k);
  return k;
};
const signal = () => new AbortController().signal;
const names = async () => (await log.take()).map((args) => args.slice(0, 2).join(' ').toLowerCase().replace(/ \S+$/, (k) => (k.includes('-') ? ' <key>' : k)));

beforeAll(async () => {
  await requireService('redis');
  redis = await redisClient();
  log = await watchRedis(redis);
});

afterAll(async () => {
  await log?.stop();
  if (keys.length) await redis?.del(...keys);
  await redis?.quit();
});

describe('redisKey', () => {
  it('loads JSON with its version key, and revalidates with one GET of the version', async () => {
    const k = key('cfg');
    const v = key('cfg-v');
    await redis.set(k, JSON.stringify({ a: 1 }));
    await redis.incr(v);
    const source = redisKey({ client: redis, key: k, versionKey: v });
    await log.take();

    const loaded = await source.load(signal());
    expect(loaded).toEqual({ value: { a: 1 }, version: '1' });
    expect(await names()).toEqual(['get <key>', 'get <key>']);

    expect(await source.revalidate!({ value: loaded.value, version: loaded.version }, signal())).toBe('unchanged');
    expect(await log.take()).toEqual([['get', v]]);

    await redis.set(k, JSON.stringify({ a: 2 }));
    await redis.incr(v);
    await log.take();
    expect(await source.revalidate!({ value: loaded.value, version: loaded.version }, signal())).toEqual({ value: { a: 2 }, version: '2' });
    expect(await log.take()).toEqual([
      ['get', v],
      ['get', v],
      ['get', k],
    ]);
  });

  it('has no revalidate without a version key (a stale state reloads the value)', async () => {
    const k = key('plain');
    await redis.set(k, 'hello');
    const source = redisKey({ client: redis, key: k, decode: 'text' });
    expect(source.revalidate).toBeUndefined();
    expect(await source.load(signal())).toEqual({ value: 'hello' });
  });

  it('decodes with a function, and takes a function that returns the client', async () => {
    const k = key('csv');
    await redis.set(k, 'a,b,c');
    let asked = 0;
    const source = redisKey({
      client: async () => {
        asked++;
        return redis;
      },
      key: k,
      decode: (text) => text.split(','),
    });
    expect((await source.load(signal())).value).toEqual(['a', 'b', 'c']);
    expect(asked).toBe(1);
  });

  it('fails on a missing key unless optional, and on JSON it cannot parse without echoing it', async () => {
    const missing = key('missing');
    await expect(redisKey({ client: redis, key: missing }).load(signal())).rejects.toThrow(new SourceError('key does not exist'));
    expect(await redisKey({ client: redis, key: missing, optional: true }).load(signal())).toEqual({ value: undefined });

    const bad = key('bad');
    await redis.set(bad, '{"secret": hunter2}');
    const error = await redisKey({ client: redis, key: bad }).load(signal()).catch((e: Error) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/^the value is not valid JSON/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('names the source, its key and the failure in the state error', async () => {
    const cache = defineState({ sources: { settings: redisKey({ client: redis, key: key('absent') }) } });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error.failures).toEqual([expect.objectContaining({ source: 'settings', kind: 'load', message: expect.stringMatching(/^redis key .*absent.*: key does not exist$/) })]);
  });

  it('rejects an empty key name at definition time', () => {
    expect(() => redisKey({ client: redis, key: '' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'key' }));
  });
});

describe('redisHash', () => {
  it('loads the fields atomically with the version field, and revalidates with one HGET', async () => {
    const k = key('flags');
    await redis.hset(k, { on: 'true', limit: '5', version: '7' });
    const source = redisHash({ client: redis, key: k, versionField: 'version' });
    await log.take();
    const loaded = await source.load(signal());
    expect(loaded).toEqual({ value: { on: 'true', limit: '5', version: '7' }, version: '7' });
    expect(await log.take()).toEqual([['hgetall', k]]);
    expect(await source.revalidate!({ value: loaded.value, version: loaded.version }, signal())).toBe('unchanged');
    expect(await log.take()).toEqual([['hget', k, 'version']]);
  });

  it('parses field values as JSON and names the field that is not', async () => {
    const k = key('json-hash');
    await redis.hset(k, { limits: '{"rps":5}', list: '[1,2]' });
    await redis.hset(k, '__proto__', '"own"');
    const value = (await redisHash({ client: redis, key: k, decode: 'json' }).load(signal())).value;
    expect(value.limits).toEqual({ rps: 5 });
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);

    await redis.hset(k, 'broken', '{nope');
    const cache = defineState({ sources: { flags: redisHash({ client: redis, key: k, decode: 'json' }) } });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error.failures).toEqual([expect.objectContaining({ source: 'flags', field: 'flags.broken', message: expect.stringContaining('field broken is not valid JSON') })]);
  });

  it('treats an empty hash as missing unless optional', async () => {
    const k = key('empty');
    await expect(redisHash({ client: redis, key: k }).load(signal())).rejects.toThrow('hash does not exist');
    expect(await redisHash({ client: redis, key: k, optional: true, versionField: 'v' }).load(signal())).toEqual({ value: {} });
  });
});

describe('Redis Cluster', () => {
  it('works with an ioredis Cluster when key and version key share a hash tag', async () => {
    await requireService('redis-cluster');
    const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((hp) => {
      const [host, port] = hp.split(':');
      return { host: host!, port: Number(port) };
    });
    const cluster = new Cluster(nodes, { lazyConnect: true, clusterRetryStrategy: () => null });
    await cluster.connect();
    const tag = `{${unique('tag')}}`;
    try {
      await cluster.set(`${tag}:cfg`, '{"n":1}');
      await cluster.set(`${tag}:cfg:v`, '1');
      const source = redisKey({ client: cluster, key: `${tag}:cfg`, versionKey: `${tag}:cfg:v` });
      const loaded = await source.load(signal());
      expect(loaded).toEqual({ value: { n: 1 }, version: '1' });
      expect(await source.revalidate!({ value: loaded.value, version: loaded.version }, signal())).toBe('unchanged');
    } finally {
      await cluster.del(`${tag}:cfg`, `${tag}:cfg:v`);
      await cluster.quit();
    }
  });
});
