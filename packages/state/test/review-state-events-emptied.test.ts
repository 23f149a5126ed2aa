/**
 * Review: an event store that holds no event at all any more — not even the one a warm instance
 * applied last — under that warm instance. A MongoDB events collection emptied (dropped, or
 * restored from a backup taken before its first event, or every event archived past the
 * snapshot), or a Redis stream key gone (a Redis without persistence restarted). The "behind the
 * position" rule (review-state-events-behind, review-state-stream-behind) reads the newest event
 * to judge, and with none there it read "no event": the warm instance kept the state it had
 * folded for good, while a cold instance loads the snapshot's (or `initial()`) — instances
 * disagreed without a word.
 *
 * Now such a revalidation reads the snapshot: at the position applied last (every event archived
 * up to it, its own included) the state is unchanged; a newer snapshot is loaded from; otherwise
 * the revalidation fails like a store behind the position (the last good state within
 * `staleIfErrorMs`, with the warning), and the next try loads the source in full. A cold load
 * from a snapshot over an emptied store still loads (nothing after it yet). Against FerretDB and
 * the shared Redis.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, hydrate, mongoEvents, redisStreamEvents, type SnapshotStore } from '../src/index.js';
import { TEST_DB, logLines, manualClock, ownMongo, redisClient, unique } from './support.js';

const rig = ownMongo();
let redis: Redis;
const keys: string[] = [];

beforeAll(async () => {
  redis = await redisClient();
});

afterAll(async () => {
  if (keys.length > 0) await redis?.del(...keys);
  await redis?.quit();
});

interface Added {
  seq: number;
  add: number;
}
const sum = (total: number, event: Added): number => total + event.add;

async function eventsIn(seqs: number[]): Promise<string> {
  const name = unique('emptied');
  rig.dropAfter(name);
  await rig.db.collection(name).insertMany(seqs.map((seq) => ({ seq, add: 10 ** (seq - 1) })));
  return name;
}

/** A snapshot store whose snapshot the test moves. */
function movableSnapshot<P>(first: { position: P; state: number } | undefined) {
  let current = first;
  const store: SnapshotStore<number, P> = { read: async () => current };
  return { store, move: (next: { position: P; state: number } | undefined) => (current = next) };
}

function mongoCache(collection: string, snapshot: SnapshotStore<number, number>) {
  const clock = manualClock();
  const log = logLines();
  const cache = defineState({
    sources: { total: hydrate({ snapshot, events: mongoEvents<Added>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' }), initial: () => 0, reducer: sum }) },
    maxAgeMs: 1_000,
    staleIfErrorMs: 60_000,
    retryAfterErrorMs: 1_000,
    logger: log.logger,
    now: clock.now,
  });
  return { cache, clock, log };
}

const warnings = (log: ReturnType<typeof logLines>) => log.entries().filter((l) => l.msg === 'serving the last good state: reload failed');

describe('hydrate(): an event store emptied under a warm instance', () => {
  it('MongoDB: events after the snapshot gone with the rest — stale with the warning, then the snapshot\'s state, as a cold start', async () => {
    const collection = await eventsIn([1, 2, 3]);
    const { store } = movableSnapshot<number>({ position: 1, state: 1 });
    const { cache, clock, log } = mongoCache(collection, store);
    expect((await cache.get()).total).toBe(111);

    await rig.db.collection(collection).deleteMany({});
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(111);
    expect(warnings(log)).toMatchObject([
      { failures: [expect.objectContaining({ field: 'total', message: expect.stringMatching(/the event at position 3, the last the cached state includes, is no longer in the store \(nor any other event\), and the snapshot is at position 1/) })] },
    ]);
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(1);
    // And from there on, nothing new: unchanged, no other warning.
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(1);
    expect(warnings(log)).toHaveLength(1);
  });

  it('MongoDB: every event archived up to the snapshot at the position applied last — unchanged, the same object; up to a newer snapshot — loaded from it', async () => {
    const collection = await eventsIn([1, 2, 3]);
    const snapshot = movableSnapshot<number>(undefined);
    const { cache, clock, log } = mongoCache(collection, snapshot.store);
    const first = await cache.get();
    expect(first.total).toBe(111);

    // A snapshot at 3 written, then every event up to it archived, its own included.
    snapshot.move({ position: 3, state: 111 });
    await rig.db.collection(collection).deleteMany({});
    clock.advance(1_000);
    expect(await cache.get()).toBe(first);

    // Two more events folded into a newer snapshot elsewhere, and archived too.
    snapshot.move({ position: 5, state: 11_111 });
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(11_111);
    expect(warnings(log)).toEqual([]);
  });

  it('MongoDB: events up to a newer snapshot archived, later ones kept — loaded from the snapshot, not the later events folded onto the old state', async () => {
    const collection = await eventsIn([1, 2, 3]);
    const snapshot = movableSnapshot<number>(undefined);
    const { cache, clock, log } = mongoCache(collection, snapshot.store);
    expect((await cache.get()).total).toBe(111);

    // Events 4 and 5 written, folded into a snapshot at 5, archived up to it; event 6 written.
    await rig.db.collection(collection).insertMany([4, 5, 6].map((seq) => ({ seq, add: 10 ** (seq - 1) })));
    snapshot.move({ position: 5, state: 11_111 });
    await rig.db.collection(collection).deleteMany({ seq: { $lte: 5 } });
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(111_111);
    expect(warnings(log)).toEqual([]);

    // The snapshot's own event archived with it while this instance stood at it: only the new ones are read.
    const atSnapshot = await eventsIn([1, 2, 3]);
    const held = movableSnapshot<number>({ position: 3, state: 111 });
    const second = mongoCache(atSnapshot, held.store);
    expect((await second.cache.get()).total).toBe(111);
    await rig.db.collection(atSnapshot).insertOne({ seq: 4, add: 1_000 });
    await rig.db.collection(atSnapshot).deleteMany({ seq: { $lte: 3 } });
    second.clock.advance(1_000);
    expect((await second.cache.get()).total).toBe(1_111);
    expect(warnings(second.log)).toEqual([]);
  });

  it('MongoDB: events this instance applied archived past the snapshot, later ones kept — stale with the warning, then loaded in full', async () => {
    const collection = await eventsIn([1, 2, 3]);
    const { store } = movableSnapshot<number>({ position: 1, state: 1 });
    const { cache, clock, log } = mongoCache(collection, store);
    expect((await cache.get()).total).toBe(111);

    await rig.db.collection(collection).insertOne({ seq: 4, add: 1_000 });
    await rig.db.collection(collection).deleteMany({ seq: { $lte: 3 } });
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(111);
    expect(warnings(log)).toMatchObject([
      { failures: [expect.objectContaining({ message: expect.stringMatching(/the event at position 3, the last the cached state includes, is no longer in the store \(the next is at position 4\), and the snapshot is at position 1/) })] },
    ]);
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(1_001);
  });

  it('Redis: the stream key gone under a warm instance (no snapshot) — stale with the warning, then initial(), as a cold start', async () => {
    const key = unique('emptied-stream');
    keys.push(key);
    for (const [id, n] of [['1-0', 1], ['2-0', 10]] as const) await redis.xadd(key, id, 'n', String(n));
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { total: hydrate({ events: redisStreamEvents({ client: redis, key }), initial: () => 0, reducer: (t: number, e: Record<string, string>) => t + Number(e.n) }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      logger: log.logger,
      now: clock.now,
    });
    expect((await cache.get()).total).toBe(11);

    await redis.del(key);
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(11);
    expect(warnings(log)).toMatchObject([
      { failures: [expect.objectContaining({ field: 'total', message: expect.stringMatching(/the event at position 2-0, the last the cached state includes, is no longer in the store \(nor any other event\), and there is no snapshot/) })] },
    ]);
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(0);
  });
});
