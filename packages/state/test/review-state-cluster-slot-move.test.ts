/**
 * Review (held): a state on a Redis Cluster while the slot of its keys moves to another node —
 * during the move (the source node answers ASK for keys already migrated) and after it (MOVED).
 * The state keeps revalidating and loading the new value through an ioredis `Cluster`; no
 * invocation sees an error. The cluster is this file's own (three masters on free ports).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, redisKey } from '../src/index.js';
import { useMovableCluster } from '../../../test/support/cluster-slot-move.js';
import { logLines, manualClock } from './support.js';

const movable = useMovableCluster();

describe('a Redis Cluster slot moving under a state', () => {
  it('revalidates and reloads through ASK (mid-move) and MOVED (after), without an error', async () => {
    const key = '{slotmove}:config';
    const versionKey = '{slotmove}:config:v';
    await movable.cluster.set(key, JSON.stringify({ retries: 1 }));
    await movable.cluster.set(versionKey, '1');
    const clock = manualClock();
    const cache = defineState({
      sources: { config: redisKey({ client: movable.cluster, key, versionKey }) },
      schema: z.object({ config: z.object({ retries: z.number().int() }) }),
      maxAgeMs: 1_000,
      now: clock.now,
      logger: logLines().logger,
    });
    expect(await cache.get()).toEqual({ config: { retries: 1 } });

    const move = await movable.beginMove(key);
    // The keys move; the slot still belongs to the old node, which answers ASK for them.
    await move.migrate(key, versionKey);
    // The writer goes through the cluster client too (it follows ASK to the new node).
    await movable.cluster.set(key, JSON.stringify({ retries: 2 }));
    await movable.cluster.incr(versionKey);
    expect(await move.to.call('ASKING').then(() => move.to.get(versionKey))).toBe('2');
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { retries: 2 } });
    expect(cache.status().lastError).toBeUndefined();

    await move.finish();
    // After the move the old node answers MOVED; the client follows it.
    await movable.cluster.set(key, JSON.stringify({ retries: 3 }));
    await movable.cluster.incr(versionKey);
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
    expect(cache.status().lastError).toBeUndefined();
  });
});
