/**
 * Review: `redisStreamEvents()` read a stream that had been trimmed (XTRIM MAXLEN/MINID,
 * XADD … MAXLEN, XDEL) past the position it reads after — the snapshot's, a warm instance's
 * last applied one, or the start when there is no snapshot — and silently skipped the events
 * that were gone: the state was wrong and nothing said so.
 *
 * Now the stream's XINFO and the XRANGE are read in one Lua script (atomic, one key → one
 * slot, so it runs on a Cluster too), and a stream that no longer holds every event after
 * that position fails the load. Against the shared Redis 7 and the shared Cluster.
 */
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, hydrate, redisStreamEvents, type SnapshotStore, type StateSource } from '../src/index.js';
import { clusterNodes } from '../../../test/support/redis.js';
import { logLines, manualClock, redisClient, unique, watchRedis, type RedisCommandLog } from './support.js';

interface Tally {
  sum: number;
  count: number;
}
const initial = (): Tally => ({ sum: 0, count: 0 });
const reducer = (t: Tally, e: Record<string, string>): Tally => ({ sum: t.sum + Number(e.n), count: t.count + 1 });
const fold = (ns: number[], from: Tally = initial()): Tally => ns.reduce((t, n) => reducer(t, { n: String(n) }), from);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const load = <T>(source: StateSource<T>) => source.load(new AbortController().signal);

/** A snapshot store holding one snapshot in memory (the events are the part under test). */
function snapshotAt(state: Tally, position: string): SnapshotStore<Tally, string> & { set(state: Tally, position: string): void } {
  let snap = { state, position };
  return {
    description: 'test snapshot',
    read: async () => snap,
    set(s, p) {
      snap = { state: s, position: p };
    },
  };
}

/** Appends events n = from..to; returns their entry ids, in order. */
async function append(client: Redis | Cluster, key: string, from: number, to: number): Promise<string[]> {
  const ids: string[] = [];
  for (const n of range(from, to)) ids.push((await client.xadd(key, '*', 'n', String(n)))!);
  return ids;
}

let redis: Redis;
let redisLog: RedisCommandLog;
const keys: string[] = [];
const key = (name: string) => {
  const k = unique(name);
  keys.push(k);
  return k;
};

beforeAll(async () => {
  redis = await redisClient();
  redisLog = await watchRedis(redis);
});

afterAll(async () => {
  await redisLog?.stop();
  if (keys.length > 0) await redis?.del(...keys);
  await redis?.quit();
});

describe('redisStreamEvents() on a trimmed stream (Redis 7)', () => {
  it('trimmed past the snapshot\'s position: the load fails, naming the position and asking for a newer snapshot', async () => {
    const k = key('trim-past');
    const ids = await append(redis, k, 1, 20);
    const snapshot = snapshotAt(fold(range(1, 10)), ids[9]!);
    await redis.xtrim(k, 'MAXLEN', 5); // events 11..15 are gone
    const source = hydrate({ snapshot, events: redisStreamEvents({ client: redis, key: k }), initial, reducer });
    await expect(load(source)).rejects.toMatchObject({ name: 'SourceError', message: expect.stringContaining(`position ${ids[9]}`) });
    await expect(load(source)).rejects.toThrow(/newer snapshot/);

    // Through defineState: STATE_UNAVAILABLE, and never the state with events 11..15 missing.
    const cache = defineState({ sources: { tally: source } });
    const failed = await cache.get().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [expect.objectContaining({ source: 'tally', kind: 'load', message: expect.stringContaining(ids[9]!) })] });
  });

  it('XADD … MAXLEN past the snapshot, and XDEL of an event after it, fail the same way', async () => {
    const k = key('xadd-maxlen');
    const ids = await append(redis, k, 1, 10);
    for (const n of range(11, 20)) await redis.xadd(k, 'MAXLEN', 3, '*', 'n', String(n));
    const source = hydrate({ snapshot: snapshotAt(fold(range(1, 10)), ids[9]!), events: redisStreamEvents({ client: redis, key: k }), initial, reducer });
    await expect(load(source)).rejects.toThrow(ids[9]!);

    const d = key('xdel');
    const dIds = await append(redis, d, 1, 20);
    await redis.xdel(d, dIds[14]!); // event 15, after the snapshot
    const deleted = hydrate({ snapshot: snapshotAt(fold(range(1, 10)), dIds[9]!), events: redisStreamEvents({ client: redis, key: d }), initial, reducer });
    await expect(load(deleted)).rejects.toThrow(dIds[9]!);
  });

  it('without a snapshot, a stream trimmed from the start fails; an untouched one loads', async () => {
    const k = key('no-snapshot');
    await append(redis, k, 1, 20);
    const events = redisStreamEvents({ client: redis, key: k });
    expect((await load(hydrate({ events, initial, reducer }))).value).toEqual(fold(range(1, 20)));
    await redis.xtrim(k, 'MAXLEN', 15);
    await expect(load(hydrate({ events, initial, reducer }))).rejects.toThrow(/start of the stream/);
  });

  it('trimmed only before the snapshot\'s position (MINID at the snapshot, XDEL of older events): loads, the same as a full replay', async () => {
    const k = key('trim-before');
    const ids = await append(redis, k, 1, 30);
    await redis.xdel(k, ids[12]!); // event 13, before the snapshot
    await redis.xtrim(k, 'MINID', ids[19]!); // evicts ids below event 20, the snapshot's: it and every later one stay
    const source = hydrate({ snapshot: snapshotAt(fold(range(1, 20)), ids[19]!), events: redisStreamEvents({ client: redis, key: k }), initial, reducer, pageSize: 4 });
    const loaded = await load(source);
    expect(loaded.value).toEqual(fold(range(1, 30)));
    expect(loaded.version).toEqual({ position: ids[29] });
  });

  it('a trim that removed the snapshot\'s own entry is refused too: the stream cannot tell whether later events went with it', async () => {
    const k = key('trim-through');
    const ids = await append(redis, k, 1, 20);
    await redis.xtrim(k, 'MAXLEN', 10); // 1..10 gone, 11.. kept: nothing after the snapshot was lost, but XINFO cannot show it
    const source = hydrate({ snapshot: snapshotAt(fold(range(1, 10)), ids[9]!), events: redisStreamEvents({ client: redis, key: k }), initial, reducer });
    await expect(load(source)).rejects.toThrow(`position ${ids[9]}`);
  });

  it('a missing stream key is no events, not an error', async () => {
    const source = hydrate({ snapshot: snapshotAt(fold(range(1, 5)), '1-0'), events: redisStreamEvents({ client: redis, key: unique('missing') }), initial, reducer });
    expect((await load(source)).value).toEqual(fold(range(1, 5)));
  });

  it('reads XINFO and the page in one command (one script per page: a trim cannot fall between them)', async () => {
    const k = key('one-command');
    const ids = await append(redis, k, 1, 10);
    await redisLog.take();
    await load(hydrate({ snapshot: snapshotAt(fold(range(1, 2)), ids[1]!), events: redisStreamEvents({ client: redis, key: k }), initial, reducer, pageSize: 4 }));
    const commands = await redisLog.take();
    // Pages after 2, 6 and 10 (the last is short): one EVAL each, on the stream's key only.
    expect(commands.map((c) => [c[0]!.toLowerCase(), c[2], c[3], c[4]])).toEqual([
      ['eval', '1', k, `(${ids[1]}`],
      ['eval', '1', k, `(${ids[5]}`],
      ['eval', '1', k, `(${ids[9]}`],
    ]);
  });

  it('a reader with only xrange (no eval) still loads, unchecked, as before', async () => {
    const k = key('xrange-only');
    const ids = await append(redis, k, 1, 20);
    await redis.xtrim(k, 'MAXLEN', 5);
    const reader = { xrange: redis.xrange.bind(redis) as Redis['xrange'] };
    const source = hydrate({ snapshot: snapshotAt(fold(range(1, 10)), ids[9]!), events: redisStreamEvents({ client: reader, key: k }), initial, reducer });
    expect((await load(source)).value).toEqual(fold([...range(1, 10), ...range(16, 20)]));
  });

  it('warm revalidation after a trim past the cached position fails; the last good state is served only within staleIfErrorMs, and a newer snapshot loads in full', async () => {
    const k = key('warm');
    const ids = await append(redis, k, 1, 10);
    const snapshot = snapshotAt(fold(range(1, 5)), ids[4]!);
    const clock = manualClock();
    const log = logLines();
    const strict = defineState({ sources: { tally: hydrate({ snapshot, events: redisStreamEvents({ client: redis, key: k }), initial, reducer }) }, maxAgeMs: 1_000, now: clock.now, logger: log.logger });
    const lenient = defineState({
      sources: { tally: hydrate({ snapshot, events: redisStreamEvents({ client: redis, key: k }), initial, reducer }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      retryAfterErrorMs: 1_000,
      now: clock.now,
      logger: log.logger,
    });
    const good = await lenient.get();
    expect(good.tally).toEqual(fold(range(1, 10)));
    expect((await strict.get()).tally).toEqual(fold(range(1, 10)));

    // 10 more events; a trim keeps only the last 3: events 11..17, after both caches' position, are gone.
    const more = await append(redis, k, 11, 20);
    await redis.xtrim(k, 'MAXLEN', 3);
    clock.advance(1_000);

    // staleIfErrorMs 0: the failed revalidation is thrown.
    await expect(strict.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE', message: expect.stringContaining(`position ${ids[9]}`) });
    // Within staleIfErrorMs: the last good state (not one missing events 11..17), with the warning.
    expect(await lenient.get()).toBe(good);
    expect(log.entries().find((l) => l.msg === 'serving the last good state: reload failed')).toMatchObject({ code: 'STATE_UNAVAILABLE' });
    expect(lenient.status().lastError).toMatchObject({ code: 'STATE_UNAVAILABLE' });

    // A newer snapshot (at event 18, still in the stream): the failed source is loaded in full
    // (snapshot + events after it), not revalidated from the cached position.
    snapshot.set(fold(range(1, 18)), more[7]!);
    clock.advance(1_000);
    expect((await lenient.get()).tally).toEqual(fold(range(1, 20)));
    expect(lenient.status().lastError).toBeUndefined();
    expect((await strict.get()).tally).toEqual(fold(range(1, 20)));
  });
});

const nodes = clusterNodes();

describe.skipIf(nodes.length === 0)('redisStreamEvents() on a trimmed stream, Redis Cluster (needs REDIS_CLUSTER_NODES: the shared cluster)', () => {
  let cluster: Cluster;
  const clusterKeys: string[] = [];
  beforeAll(async () => {
    cluster = new Cluster(nodes, { clusterRetryStrategy: () => null });
  });
  afterAll(async () => {
    for (const k of clusterKeys) await cluster?.del(k);
    await cluster?.quit();
  });

  it('trimmed past the snapshot fails; trimmed before it loads', async () => {
    // Several keys, so the script runs on more than one node.
    for (const name of ['a', 'b', 'c', 'd']) {
      const k = unique(`cluster-${name}`);
      clusterKeys.push(k);
      const ids = await append(cluster, k, 1, 20);
      const source = hydrate({ snapshot: snapshotAt(fold(range(1, 10)), ids[9]!), events: redisStreamEvents({ client: cluster, key: k }), initial, reducer, pageSize: 3 });
      await cluster.xtrim(k, 'MINID', ids[9]!);
      expect((await load(source)).value).toEqual(fold(range(1, 20)));
      await cluster.xtrim(k, 'MAXLEN', 4);
      await expect(load(source)).rejects.toThrow(`position ${ids[9]}`);
    }
  });
});
