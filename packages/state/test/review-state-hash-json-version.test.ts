/**
 * Review (D3): `redisHash({ decode: 'json', versionField })` JSON-parsed the version field like
 * every other field, so a plain UUID or ISO timestamp version — the values the README advises —
 * failed the load (`field version is not valid JSON`). The version field is now read as text
 * under either decode, in the value and as the version; the other fields are still parsed.
 * Real Redis and a real Cluster.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, redisHash, type RedisReader } from '../src/index.js';
import { redisClient, unique, watchRedis } from './support.js';

// The shared cluster (the services env sets it); without it the Cluster cases fail, never skip.
const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((hostPort) => {
  const [host, port] = hostPort.split(':');
  return { host: host!, port: Number(port) };
});

describe.each([
  ['a single Redis', () => redisClient() as Promise<Redis | Cluster>],
  ['a Redis Cluster', async () => new Cluster(nodes) as Redis | Cluster],
])('redisHash({ decode: "json", versionField }) with a text version on %s', (_, connect) => {
  let client: Redis | Cluster;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(() => {
    client?.disconnect();
  });

  it.each([
    ['a UUID', (_n: number) => randomUUID()],
    ['an ISO timestamp', (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1_000).toISOString()],
  ])('loads with %s as the version, revalidates against it, and reloads when it changes', async (_kind, nextVersion) => {
    const key = unique('{hv}flags');
    const first = nextVersion(1);
    await client.hset(key, { maxItems: '5', tags: '["a","b"]', version: first });
    let t = 1_000_000;
    const cache = defineState({
      sources: { flags: redisHash({ client: client as RedisReader, key, versionField: 'version', decode: 'json' }) },
      maxAgeMs: 1_000,
      now: () => t,
    });

    expect(await cache.get()).toEqual({ flags: { maxItems: 5, tags: ['a', 'b'], version: first } });
    expect(cache.status().versions).toEqual({ flags: first });

    // Unchanged: the version read by HGET matches the one read with the hash.
    t += 2_000;
    expect(await cache.get()).toEqual({ flags: { maxItems: 5, tags: ['a', 'b'], version: first } });
    expect(cache.status()).toMatchObject({ lastError: undefined, fresh: true });

    const second = nextVersion(2);
    await client.hset(key, { maxItems: '7', version: second });
    t += 2_000;
    expect(await cache.get()).toEqual({ flags: { maxItems: 7, tags: ['a', 'b'], version: second } });
    expect(cache.status().versions).toEqual({ flags: second });
    await client.del(key);
  });

  it('still parses the other fields as JSON and names one that is not', async () => {
    const key = unique('{hv}broken');
    await client.hset(key, { maxItems: 'five', version: randomUUID() });
    const error = await defineState({ sources: { flags: redisHash({ client: client as RedisReader, key, versionField: 'version', decode: 'json' }) } })
      .get()
      .then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [expect.objectContaining({ field: 'flags.maxItems', message: expect.stringContaining('field maxItems is not valid JSON') })] });
    await client.del(key);
  });
});

// The shared single Redis: a revalidation with an unchanged text version is one HGET, no HGETALL.
describe('an unchanged text version on a single Redis', () => {
  it('costs one HGET', async () => {
    const client = await redisClient();
    const watch = await watchRedis(client);
    try {
      const key = unique('{hv}counted');
      await client.hset(key, { on: 'true', version: randomUUID() });
      let t = 1_000_000;
      const cache = defineState({ sources: { flags: redisHash({ client, key, versionField: 'version', decode: 'json' }) }, maxAgeMs: 1_000, now: () => t });
      expect(await cache.get()).toMatchObject({ flags: { on: true } });
      t += 2_000;
      await watch.take();
      await cache.get();
      expect((await watch.take()).map((args) => args[0]!.toLowerCase())).toEqual(['hget']);
      await client.del(key);
    } finally {
      await watch.stop();
      client.disconnect();
    }
  });
});
