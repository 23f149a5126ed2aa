/**
 * Review: a Redis stream whose last entry id is before the position hydration reads after — the
 * snapshot's, or a warm instance's last applied event. Reads are `XRANGE key (<position> +`, so
 * every event the stream holds, and every one appended while its ids stay below that position,
 * was skipped without a word: the state stayed the snapshot's (or the warm instance's) for good.
 * It happens when the stream was deleted and written again (a Redis without persistence
 * restarted and seeded again, a `DEL` and a replay, writers giving their own ids), or when the
 * snapshot belongs to another stream. The trim check (review-state-stream-trim) does not see it:
 * a stream written anew has removed nothing (`entries-added` = `length`).
 *
 * Now the page script's `last-generated-id` is compared with the position: a stream whose last id
 * is before it fails the load (`STATE_UNAVAILABLE`), and a warm instance, once the failed reload
 * forgets the version, loads that source in full — the events the stream now holds. Against the
 * shared Redis 7.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, hydrate, redisStreamEvents, type SnapshotStore } from '../src/index.js';
import { logLines, manualClock, redisClient, stateErrorOf, unique } from './support.js';

interface Tally {
  sum: number;
  count: number;
}
const initial = (): Tally => ({ sum: 0, count: 0 });
const reducer = (t: Tally, e: Record<string, string>): Tally => ({ sum: t.sum + Number(e.n), count: t.count + 1 });

let redis: Redis;
const keys: string[] = [];
const key = (name: string) => {
  const k = unique(name);
  keys.push(k);
  return k;
};

/** Appends n at the given explicit ids (writers that give their own ids: `<order>-0`). */
async function appendAt(k: string, entries: Array<[id: string, n: number]>): Promise<void> {
  for (const [id, n] of entries) await redis.xadd(k, id, 'n', String(n));
}

beforeAll(async () => {
  redis = await redisClient();
});

afterAll(async () => {
  if (keys.length > 0) await redis?.del(...keys);
  await redis?.quit();
});

describe('redisStreamEvents(): a stream whose last entry is before the position read after', () => {
  it('a snapshot newer than the stream fails the cold load instead of skipping every event', async () => {
    const k = key('behind-snapshot');
    await appendAt(k, [
      ['1-0', 1],
      ['2-0', 10],
    ]);
    // A snapshot taken of the stream before it was written anew, at a position it has not reached.
    const snapshot: SnapshotStore<Tally, string> = { description: 'test snapshot', read: async () => ({ position: '5-0', state: { sum: 1_000, count: 5 } }) };
    const cache = defineState({ sources: { tally: hydrate({ snapshot, events: redisStreamEvents({ client: redis, key: k }), initial, reducer }) } });
    const error = await stateErrorOf(cache.get());
    expect(error.code).toBe('STATE_UNAVAILABLE');
    expect(error.failures).toEqual([
      expect.objectContaining({
        source: 'tally',
        field: 'tally',
        message: expect.stringMatching(/events after position 5-0 .*its last entry is 2-0, before that position/),
      }),
    ]);
  });

  it('a stream written anew under a warm instance: served stale with the warning within staleIfErrorMs, then loaded in full', async () => {
    const k = key('behind-warm');
    await appendAt(k, [
      ['1-0', 1],
      ['2-0', 10],
      ['3-0', 100],
    ]);
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { tally: hydrate({ events: redisStreamEvents({ client: redis, key: k }), initial, reducer }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      retryAfterErrorMs: 1_000,
      logger: log.logger,
      now: clock.now,
    });
    expect((await cache.get()).tally).toEqual({ sum: 111, count: 3 });

    // The stream is lost and written again from the start (ids restart).
    await redis.del(k);
    await appendAt(k, [
      ['1-0', 2],
      ['2-0', 20],
    ]);
    clock.advance(1_000);
    // The old state, with the warning — not "unchanged" for good.
    expect((await cache.get()).tally).toEqual({ sum: 111, count: 3 });
    expect(log.entries()).toEqual([
      expect.objectContaining({ msg: 'serving the last good state: reload failed', failures: [expect.objectContaining({ field: 'tally', message: expect.stringMatching(/its last entry is 2-0/) })] }),
    ]);
    // After retryAfterErrorMs the source is loaded in full: the events the stream holds now.
    clock.advance(1_000);
    expect((await cache.get()).tally).toEqual({ sum: 22, count: 2 });
  });

  it('a stream that caught up with the position still loads (the position itself is its last entry)', async () => {
    const k = key('behind-equal');
    await appendAt(k, [
      ['1-0', 1],
      ['5-0', 10],
    ]);
    const snapshot: SnapshotStore<Tally, string> = { read: async () => ({ position: '5-0', state: { sum: 7, count: 1 } }) };
    const cache = defineState({ sources: { tally: hydrate({ snapshot, events: redisStreamEvents({ client: redis, key: k }), initial, reducer }) } });
    expect((await cache.get()).tally).toEqual({ sum: 7, count: 1 });
  });
});
