/**
 * Review (held): a state on a Redis Cluster while the slot of its keys moves to another node —
 * during the move (the source node answers ASK for keys already migrated) and after it (MOVED).
 * The state keeps revalidating and loading the new value through an ioredis `Cluster`; no
 * invocation sees an error. The cluster is this file's own (three masters on free ports).
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, redisKey } from '../src/index.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';
import { logLines, manualClock } from './support.js';

let own: OwnCluster;
let cluster: Cluster;
const admin = new Map<number, Redis>();

beforeAll(async () => {
  own = await startRedisCluster();
  cluster = new Cluster(own.nodes, { clusterRetryStrategy: () => null });
  for (const port of own.ports) admin.set(port, new Redis({ host: '127.0.0.1', port }));
}, 60_000);

afterAll(async () => {
  cluster?.disconnect();
  for (const client of admin.values()) client.disconnect();
  await own?.stop();
});

/** The port of the node serving `slot`, and every node's id. */
async function layout(slot: number): Promise<{ owner: number; ids: Map<number, string> }> {
  const any = admin.get(own.ports[0]!)!;
  const slots = (await any.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
  const range = slots.find(([from, to]) => slot >= from && slot <= to)!;
  const ids = new Map<number, string>();
  for (const [port, client] of admin) ids.set(port, String(await client.call('CLUSTER', 'MYID')));
  return { owner: range[2][1], ids };
}

describe('a Redis Cluster slot moving under a state', () => {
  it('revalidates and reloads through ASK (mid-move) and MOVED (after), without an error', async () => {
    const key = '{slotmove}:config';
    const versionKey = '{slotmove}:config:v';
    await cluster.set(key, JSON.stringify({ retries: 1 }));
    await cluster.set(versionKey, '1');
    const clock = manualClock();
    const cache = defineState({
      sources: { config: redisKey({ client: cluster, key, versionKey }) },
      schema: z.object({ config: z.object({ retries: z.number().int() }) }),
      maxAgeMs: 1_000,
      now: clock.now,
      logger: logLines().logger,
    });
    expect(await cache.get()).toEqual({ config: { retries: 1 } });

    const slot = Number(await admin.get(own.ports[0]!)!.call('CLUSTER', 'KEYSLOT', key));
    const { owner, ids } = await layout(slot);
    const target = own.ports.find((p) => p !== owner)!;
    const from = admin.get(owner)!;
    const to = admin.get(target)!;
    await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids.get(owner)!);
    await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids.get(target)!);
    // The keys move; the slot still belongs to the old node, which answers ASK for them.
    await from.call('MIGRATE', '127.0.0.1', target, '', 0, 5_000, 'KEYS', key, versionKey);
    // The writer goes through the cluster client too (it follows ASK to the new node).
    await cluster.set(key, JSON.stringify({ retries: 2 }));
    await cluster.incr(versionKey);
    expect(await to.call('ASKING').then(() => to.get(versionKey))).toBe('2');
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { retries: 2 } });
    expect(cache.status().lastError).toBeUndefined();

    for (const client of admin.values()) await client.call('CLUSTER', 'SETSLOT', slot, 'NODE', ids.get(target)!);
    // After the move the old node answers MOVED; the client follows it.
    await cluster.set(key, JSON.stringify({ retries: 3 }));
    await cluster.incr(versionKey);
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
    expect(cache.status().lastError).toBeUndefined();
  });
});
