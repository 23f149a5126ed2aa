/**
 * `listQuarantined({ limit })` on Redis checks the quarantine hashes past its limit with TYPE
 * (so one of another type still refuses the call) — now all sent together, not one round trip
 * after another: on a listing of many partitions with a small limit, those TYPEs were most of
 * its time. The limit semantics stay: hashes are read (HGETALL) one after another only until
 * `limit` entries are listed. On the real redis-server and the real 3-master Cluster (where each
 * TYPE goes to its key's node); the client is the real ioredis one, watched for how many TYPEs
 * it has in flight at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeldLease } from '../src/relay/types.js';
import type { RedisLike } from '../src/stores/redis-client.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { openRedis, type RedisBackend } from './support.js';

const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };
const PARTITIONS = Array.from({ length: 8 }, (_, i) => `t-${i}`);

/** The real client, with the commands it was asked counted and the most TYPEs in flight at once. */
function watched(client: RedisBackend['client']): RedisLike & { calls: string[]; typesInFlight: number; maxTypesInFlight: number } {
  const real = client as unknown as RedisLike;
  const w = {
    isCluster: real.isCluster,
    calls: [] as string[],
    typesInFlight: 0,
    maxTypesInFlight: 0,
    evalsha: (...args: unknown[]) => real.evalsha(...args),
    eval: (...args: unknown[]) => real.eval(...args),
    // A cluster's masters, scanned when its partition list must be rebuilt.
    ...(real.nodes ? { nodes: (role: 'master') => real.nodes!(role) } : {}),
    async call(command: string, ...args: Array<string | number | Buffer>) {
      w.calls.push(command.toUpperCase());
      if (command.toUpperCase() !== 'TYPE') return real.call(command, ...args);
      w.maxTypesInFlight = Math.max(w.maxTypesInFlight, ++w.typesInFlight);
      try {
        return await real.call(command, ...args);
      } finally {
        w.typesInFlight--;
      }
    },
  };
  return w;
}

describe.each(['redis', 'cluster'] as const)('Redis listQuarantined past its limit: TYPEs sent together (%s)', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    for (const where of PARTITIONS) {
      await backend.client.sadd(partitionsKey(backend.prefix), where);
      for (const aggregate of ['tick/1', 'tick/2']) await store.quarantine({ where, aggregate, since: 0 }, { fromSeq: 1, reason: 'sender fault: X', lease });
    }
  });
  afterAll(() => backend?.close());

  it('limit 3: two hashes read one after the other, the other six TYPEs all in flight at once', async () => {
    const client = watched(backend.client);
    const listed = await redisRelayStore({ client, prefix: backend.prefix }).listQuarantined({ limit: 3 });
    expect(listed).toHaveLength(3);
    expect(new Set(listed.map((e) => e.where)).size).toBe(2);
    expect(client.calls.filter((c) => c === 'HGETALL')).toHaveLength(2);
    expect(client.calls.filter((c) => c === 'TYPE')).toHaveLength(PARTITIONS.length - 2);
    expect(client.maxTypesInFlight).toBe(PARTITIONS.length - 2);
  });

  it('limit 0: no hash read, every partition a TYPE, all at once', async () => {
    const client = watched(backend.client);
    expect(await redisRelayStore({ client, prefix: backend.prefix }).listQuarantined({ limit: 0 })).toEqual([]);
    expect(client.calls.filter((c) => c === 'HGETALL')).toHaveLength(0);
    expect(client.maxTypesInFlight).toBe(PARTITIONS.length);
  });

  it('a quarantine hash of another type past the limit still refuses the call with the typed 409, never its value', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const listedFrom = (await store.listQuarantined({ limit: 1 }))[0]!.where;
    const later = PARTITIONS.filter((where) => where !== listedFrom).at(-1)!;
    const key = partitionKeys(backend.prefix, later).quarantine;
    const saved = await backend.client.hgetall(key);
    await backend.client.del(key);
    await backend.client.set(key, 'secret-7c2d');
    try {
      const refused = await store.listQuarantined({ limit: 1 }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', status: 409 });
      expect((refused as Error).message).toContain(`the outbox's own quarantine hash key ${JSON.stringify(key)} holds a string; expected a hash`);
      expect((refused as Error).message).not.toContain('secret');
    } finally {
      await backend.client.del(key);
      await backend.client.hset(key, saved);
    }
  });
});
