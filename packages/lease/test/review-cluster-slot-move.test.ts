/**
 * Replay of the "MOVED / ASK during a claim" class (powertools-lambda-python#1181's Redis Cluster
 * notes, akkadotnet/Akka.Persistence.Redis#93 "Multi-key operations must involve a single
 * slot"): the slot of held keys moves to another master while they are claimed and settled
 * through one ioredis `Cluster` whose slot map is stale. During the move (the source answers
 * ASK for a key already migrated) a rival's claim still meets the holder, a new key is claimed
 * on the target, and a batch over migrated and unmigrated keys (TRYAGAIN) is claimed key by key
 * (it failed retryable, every key refused, for as long as the move lasted, before the one-key
 * fallback of `runBatch`); after it (MOVED) the holder settles and fences keep growing. The cluster is
 * this file's own (three masters on free ports).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisLeaseStore } from '../src/index.js';
import { useMovableCluster } from '../../../test/support/cluster-slot-move.js';

// A stale slot map is refreshed only through MOVED (no periodic refresh during the test).
const movable = useMovableCluster({ slotsRefreshInterval: 0 });

describe('redisLeaseStore on a Redis Cluster whose slot moves under held keys', () => {
  it('ASK mid-move: the holder is still seen, new keys land on the target, a split batch is claimed key by key; MOVED after: the holder settles', async () => {
    const prefix = `mv:${randomUUID().slice(0, 8)}:`;
    const store = redisLeaseStore({ client: movable.cluster, prefix });
    const [held, stays, fresh, other] = ['{mv}:held', '{mv}:stays', '{mv}:fresh', '{mv}:other'];
    const a = await store.claim({ key: held, owner: 'a', leaseMs: 60_000 });
    const s = await store.claim({ key: stays, owner: 'a', leaseMs: 60_000 });
    if (!a.claimed || !s.claimed) throw new Error('not claimed');

    const move = await movable.beginMove(prefix + held);
    const { from, to, keysOn } = move;
    await move.migrate(prefix + held);

    // The source answers ASK for the migrated key: the rival meets the holder on the target.
    const rival = await store.claim({ key: held, owner: 'b', leaseMs: 60_000 });
    expect(rival).toMatchObject({ claimed: false, record: { state: 'held', owner: 'a', fence: a.fence } });
    // A key on neither node is created on the target (ASK), not on the source.
    const created = await store.claim({ key: fresh, owner: 'b', leaseMs: 60_000 });
    expect(created.claimed).toBe(true);
    expect(await keysOn(to)).toEqual([prefix + fresh, prefix + held].sort());
    expect(await keysOn(from)).toEqual([prefix + stays]);
    // One script over a migrated and an unmigrated key of the slot: Redis answers TRYAGAIN until the
    // move ends. Once ioredis' retries run out, the slot's keys are claimed one by one, each
    // following ASK: the holders are seen where they are, the new key lands on the target.
    const batch = await store.claimMany([{ key: stays, owner: 'c', leaseMs: 60_000 }, { key: other, owner: 'c', leaseMs: 60_000 }, { key: held, owner: 'c', leaseMs: 60_000 }]);
    expect(batch[0]).toMatchObject({ claimed: false, record: { state: 'held', owner: 'a', fence: s.fence } });
    expect(batch[1]).toMatchObject({ claimed: true, fence: 1 });
    expect(batch[2]).toMatchObject({ claimed: false, record: { state: 'held', owner: 'a', fence: a.fence } });
    expect(await keysOn(to)).toEqual([prefix + fresh, prefix + held, prefix + other].sort());
    expect(await keysOn(from)).toEqual([prefix + stays]);

    await move.migrate(prefix + stays);
    await move.finish();
    // MOVED: the client follows; the holders settle, the rival's key too.
    expect(await store.settle({ key: held, owner: 'a', fence: a.fence, data: 'done-a', keepMs: 60_000 })).toBe(true);
    expect(await store.settle({ key: stays, owner: 'a', fence: s.fence })).toBe(true);
    const next = await store.claim({ key: stays, owner: 'c', leaseMs: 60_000 });
    expect(next.claimed && next.fence > s.fence).toBe(true);
    expect(await store.get(held)).toMatchObject({ state: 'done', data: 'done-a' });
  }, 60_000);
});
