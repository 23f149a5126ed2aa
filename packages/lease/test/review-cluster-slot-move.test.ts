/**
 * Replay of the "MOVED / ASK during a claim" class (powertools-lambda-python#1181's Redis Cluster
 * notes, akkadotnet/Akka.Persistence.Redis#93 "Multi-key operations must involve a single
 * slot"): the slot of held keys moves to another master while they are claimed and settled
 * through one ioredis `Cluster` whose slot map is stale. During the move (the source answers
 * ASK for a key already migrated) a rival's claim still meets the holder, a new key is claimed
 * on the target, and a batch over migrated and unmigrated keys (TRYAGAIN) fails retryable with
 * nothing written; after it (MOVED) the holder settles and fences keep growing. The cluster is
 * this file's own (three masters on free ports).
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore } from '../src/index.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';

let own: OwnCluster;
let cluster: Cluster;
const admin = new Map<number, Redis>();

beforeAll(async () => {
  own = await startRedisCluster();
  // A stale slot map is refreshed only through MOVED (no periodic refresh during the test).
  cluster = new Cluster(own.nodes, { clusterRetryStrategy: () => null, slotsRefreshInterval: 0 });
  for (const port of own.ports) admin.set(port, new Redis({ host: '127.0.0.1', port }));
}, 60_000);

afterAll(async () => {
  cluster?.disconnect();
  for (const client of admin.values()) client.disconnect();
  await own?.stop();
});

async function layout(slot: number): Promise<{ owner: number; ids: Map<number, string> }> {
  const slots = (await admin.get(own.ports[0]!)!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
  const range = slots.find(([from, to]) => slot >= from && slot <= to)!;
  const ids = new Map<number, string>();
  for (const [port, client] of admin) ids.set(port, String(await client.call('CLUSTER', 'MYID')));
  return { owner: range[2][1], ids };
}

describe('redisLeaseStore on a Redis Cluster whose slot moves under held keys', () => {
  it('ASK mid-move: the holder is still seen, new keys land on the target, a split batch fails retryable with nothing written; MOVED after: the holder settles', async () => {
    const prefix = `mv:${randomUUID().slice(0, 8)}:`;
    const store = redisLeaseStore({ client: cluster, prefix });
    const [held, stays, fresh, other] = ['{mv}:held', '{mv}:stays', '{mv}:fresh', '{mv}:other'];
    const a = await store.claim({ key: held, owner: 'a', leaseMs: 60_000 });
    const s = await store.claim({ key: stays, owner: 'a', leaseMs: 60_000 });
    if (!a.claimed || !s.claimed) throw new Error('not claimed');

    const slot = Number(await admin.get(own.ports[0]!)!.call('CLUSTER', 'KEYSLOT', prefix + held));
    const { owner, ids } = await layout(slot);
    const target = own.ports.find((p) => p !== owner)!;
    const from = admin.get(owner)!;
    const to = admin.get(target)!;
    /** The slot's keys a node holds (EXISTS on the source would answer ASK for a missing key). */
    const keysOn = async (node: Redis): Promise<string[]> => ((await node.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[]).sort();
    await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids.get(owner)!);
    await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids.get(target)!);
    await from.call('MIGRATE', '127.0.0.1', target, '', 0, 5_000, 'KEYS', prefix + held);

    // The source answers ASK for the migrated key: the rival meets the holder on the target.
    const rival = await store.claim({ key: held, owner: 'b', leaseMs: 60_000 });
    expect(rival).toMatchObject({ claimed: false, record: { state: 'held', owner: 'a', fence: a.fence } });
    // A key on neither node is created on the target (ASK), not on the source.
    const created = await store.claim({ key: fresh, owner: 'b', leaseMs: 60_000 });
    expect(created.claimed).toBe(true);
    expect(await keysOn(to)).toEqual([prefix + fresh, prefix + held].sort());
    expect(await keysOn(from)).toEqual([prefix + stays]);
    // One script over a migrated and an unmigrated key of the slot: Redis answers TRYAGAIN until the
    // move ends; the batch fails retryable and writes nothing.
    await expect(store.claimMany([{ key: stays, owner: 'c', leaseMs: 60_000 }, { key: other, owner: 'c', leaseMs: 60_000 }, { key: held, owner: 'c', leaseMs: 60_000 }])).rejects.toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', retryable: true });
    expect(await keysOn(to)).toEqual([prefix + fresh, prefix + held].sort());
    expect(await keysOn(from)).toEqual([prefix + stays]);

    await from.call('MIGRATE', '127.0.0.1', target, '', 0, 5_000, 'KEYS', prefix + stays);
    for (const client of admin.values()) await client.call('CLUSTER', 'SETSLOT', slot, 'NODE', ids.get(target)!);
    // MOVED: the client follows; the holders settle, the rival's key too.
    expect(await store.settle({ key: held, owner: 'a', fence: a.fence, data: 'done-a', keepMs: 60_000 })).toBe(true);
    expect(await store.settle({ key: stays, owner: 'a', fence: s.fence })).toBe(true);
    const next = await store.claim({ key: stays, owner: 'c', leaseMs: 60_000 });
    expect(next.claimed && next.fence > s.fence).toBe(true);
    expect(await store.get(held)).toMatchObject({ state: 'done', data: 'done-a' });
  }, 60_000);
});
