/**
 * `listQuarantined({ limit })` on Redis reads no quarantine hash it will not list: once `limit`
 * entries are listed, each remaining partition costs one TYPE (kept so a quarantine hash of
 * another type still refuses the call with its 409), not an HGETALL of the whole hash. Before,
 * every listed partition's hash was read whatever the limit. Counted on the real redis-server
 * with MONITOR, on a redis-server of this file's own: on the shared server other files' traffic
 * (large EVALSHA arguments) reached the MONITOR connection and ioredis failed it with "Command
 * queue state error" (seen in a whole-directory run at load ~20).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeldLease } from '../src/relay/types.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer();

const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };
const PARTITIONS = ['q-a', 'q-b', 'q-c', 'q-d', 'q-e'];

/** The commands (name, first key) the server ran on keys starting with `prefix` while `act` ran. */
async function commandsDuring(client: Redis, prefix: string, act: () => Promise<unknown>): Promise<Array<[string, string]>> {
  const monitor = await new Redis(own.url).monitor();
  const sentinel = `${prefix}monitor-sentinel`;
  const seen: Array<[string, string]> = [];
  let done: () => void;
  const sentinelSeen = new Promise<void>((resolve) => (done = resolve));
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[1] === sentinel) done();
    else if (typeof args[1] === 'string' && args[1].startsWith(prefix)) seen.push([args[0]!.toUpperCase(), args[1]]);
  });
  try {
    await act();
    // MONITOR shows commands in the order the server ran them: one sent after `act` is seen last.
    await client.exists(sentinel);
    await sentinelSeen;
  } finally {
    monitor.disconnect();
  }
  return seen;
}

describe('Redis listQuarantined past its limit', () => {
  let backend: { client: Redis; prefix: string; close(): void };
  beforeAll(async () => {
    const client = new Redis(own.url);
    backend = { client, prefix: 'obx-lq:', close: () => client.disconnect() };
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    for (const where of PARTITIONS) {
      await backend.client.sadd(partitionsKey(backend.prefix), where);
      for (const aggregate of ['tick/1', 'tick/2']) await store.quarantine({ where, aggregate, since: 0 }, { fromSeq: 1, reason: 'sender fault: X', lease });
    }
  });
  afterAll(() => backend?.close());

  it('limit 2: one HGETALL (the first hash holds two entries), a TYPE for each of the four others', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    let listed: unknown[] = [];
    const seen = await commandsDuring(backend.client, backend.prefix, async () => {
      listed = await store.listQuarantined({ limit: 2 });
    });
    expect(listed).toHaveLength(2);
    const quarantineKeys = new Set(PARTITIONS.map((where) => partitionKeys(backend.prefix, where).quarantine));
    const onHashes = seen.filter(([, key]) => quarantineKeys.has(key));
    expect(onHashes.filter(([cmd]) => cmd === 'HGETALL')).toHaveLength(1);
    expect(onHashes.filter(([cmd]) => cmd === 'TYPE')).toHaveLength(PARTITIONS.length - 1);
    expect(new Set(onHashes.map(([, key]) => key))).toEqual(quarantineKeys);
  });

  it('all listed (limit 100): an HGETALL per hash and no TYPE', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const seen = await commandsDuring(backend.client, backend.prefix, () => store.listQuarantined({ limit: 100 }));
    expect(seen.filter(([cmd]) => cmd === 'HGETALL')).toHaveLength(PARTITIONS.length);
    expect(seen.filter(([cmd]) => cmd === 'TYPE')).toHaveLength(0);
  });

  it('a quarantine hash of another type past the limit still refuses the call with the typed 409, never its value', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const first = (await store.listQuarantined({ limit: 1 }))[0]!.where;
    const later = PARTITIONS.find((where) => where !== first)!;
    const key = partitionKeys(backend.prefix, later).quarantine;
    const saved = await backend.client.hgetall(key);
    await backend.client.del(key);
    await backend.client.set(key, 'secret-5b1e');
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
