/**
 * Review: a `get()` whose signal was already aborted, or whose deadline had already passed, when
 * it was called, while the state was stale, still started a revalidation — and stopped it at once.
 * That abandoned round counted as a failed reload: with `staleIfErrorMs`, every other invocation
 * (with plenty of time left) was then served the stale state for `retryAfterErrorMs` without a
 * reload being tried. One invocation's dead deadline degraded every other one.
 *
 * Now a call whose signal or deadline has ended before any load starts starts none and records no
 * failure. It is answered as before: the signal's reason; past its deadline, the last good state
 * with the warning within `staleIfErrorMs`, else `DEADLINE_EXCEEDED`. The next call with time
 * left revalidates. The signal case runs on the shared Redis (a unique key); the deadline cases
 * on a source whose loads wait until released (a store that has not answered yet).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, redisKey } from '../src/index.js';
import { gatedSource, logLines, manualClock, redisClient, unique } from './support.js';

const WARNING = 'serving the last good state: reload failed';

let redis: Redis;
beforeAll(async () => {
  redis = await redisClient();
});
afterAll(() => redis?.disconnect());

/** A cancelled invocation's signal. */
function cancelledSignal(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Error('the invocation was cancelled'));
  return controller.signal;
}

describe('review: a get() whose signal or deadline ended before it was called, on a stale state', () => {
  it('Redis: an aborted signal starts no revalidation and records no failure; the next get() with time left reads the new value', async () => {
    const key = unique('ended-signal');
    await redis.set(key, JSON.stringify({ retries: 1 }));
    await redis.set(`${key}:v`, '1');
    const clock = manualClock();
    const cache = defineState({
      sources: { config: redisKey({ client: redis, key, versionKey: `${key}:v` }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 600_000,
      now: clock.now,
      logger: logLines().logger,
    });
    try {
      expect(await cache.get()).toEqual({ config: { retries: 1 } });
      await redis.set(key, JSON.stringify({ retries: 2 }));
      await redis.incr(`${key}:v`);
      clock.advance(5_000);

      await expect(cache.get({ signal: cancelledSignal() })).rejects.toThrow('the invocation was cancelled');
      expect(cache.status().lastError).toBeUndefined();

      // Not the stale state for retryAfterErrorMs: a real revalidation, reading the new value.
      clock.advance(10);
      expect(await cache.get({ deadline: Date.now() + 60_000 })).toEqual({ config: { retries: 2 } });
      expect(cache.status().versions).toEqual({ config: '2' });
    } finally {
      await redis.del(key, `${key}:v`);
    }
  });

  /** A state loaded at version 1, stale (5 s old, maxAgeMs 1 s), whose next loads wait until released. */
  async function staleGated(staleIfErrorMs: number) {
    const gated = gatedSource();
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({ sources: { config: gated.source }, maxAgeMs: 1_000, staleIfErrorMs, now: clock.now, logger: log.logger });
    expect(await cache.get()).toEqual({ config: { version: 1 } });
    clock.advance(5_000);
    gated.close();
    return { gated, clock, log, cache };
  }

  it('a passed deadline starts no reload: that call is served the last good state with the warning (within staleIfErrorMs), the next one loads the new state', async () => {
    const { gated, clock, log, cache } = await staleGated(600_000);
    expect(await cache.get({ deadline: Date.now() - 1 })).toEqual({ config: { version: 1 } });
    expect(cache.status().lastError).toBeUndefined();
    expect(log.entries().find((l) => l.msg === WARNING)).toMatchObject({
      level: 'warn',
      code: 'STATE_UNAVAILABLE',
      failures: [{ field: '', message: expect.stringContaining('deadline had passed') }],
      ageMs: 5_000,
      staleForMs: 4_000,
    });

    clock.advance(10);
    const next = cache.get({ deadline: Date.now() + 60_000 });
    // Load 1 was the first get; this is load 2 — the ended call started none.
    await gated.started(2);
    gated.release(2);
    expect(await next).toEqual({ config: { version: 2 } });
  });

  it('a passed deadline outside staleIfErrorMs: DEADLINE_EXCEEDED, no reload, no failure recorded', async () => {
    const { gated, log, cache } = await staleGated(0);
    await expect(cache.get({ deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(log.entries().filter((l) => l.msg === WARNING)).toEqual([]);
    expect(cache.status().lastError).toBeUndefined();
    const next = cache.get();
    await gated.started(2);
    gated.release(2);
    expect(await next).toEqual({ config: { version: 2 } });
  });

  it('a fresh state is still served to a call whose signal and deadline have ended', async () => {
    const { gated, clock, cache } = await staleGated(0);
    gated.release(2);
    expect(await cache.get()).toEqual({ config: { version: 2 } });
    clock.advance(10);
    expect(await cache.get({ signal: cancelledSignal(), deadline: Date.now() - 1 })).toEqual({ config: { version: 2 } });
  });

  it('a revalidation in flight that another call waits on goes on when an ended call joins it', async () => {
    const { gated, cache } = await staleGated(600_000);
    const starter = cache.get({ deadline: Date.now() + 60_000 });
    await gated.started(2);
    await expect(cache.get({ signal: cancelledSignal() })).rejects.toThrow('the invocation was cancelled');
    gated.release(2);
    expect(await starter).toEqual({ config: { version: 2 } });
    expect(cache.status().lastError).toBeUndefined();
  });

  it('a passed deadline is answered the same whether or not another call\'s revalidation is in flight: the last good state with the warning, the revalidation goes on', async () => {
    const { gated, log, cache } = await staleGated(600_000);
    const starter = cache.get({ deadline: Date.now() + 60_000 });
    await gated.started(2);
    // Before: it joined the revalidation and was rejected with DEADLINE_EXCEEDED at once, while
    // the same call with no revalidation in flight was served the last good state.
    expect(await cache.get({ deadline: Date.now() - 1 })).toEqual({ config: { version: 1 } });
    expect(log.entries().find((l) => l.msg === WARNING)).toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [{ message: expect.stringContaining('deadline had passed') }] });
    gated.release(2);
    expect(await starter).toEqual({ config: { version: 2 } });
    expect(cache.status().lastError).toBeUndefined();
  });

  it('a passed deadline outside staleIfErrorMs, with a revalidation in flight: DEADLINE_EXCEEDED, the revalidation goes on', async () => {
    const { gated, cache } = await staleGated(0);
    const starter = cache.get({ deadline: Date.now() + 60_000 });
    await gated.started(2);
    await expect(cache.get({ deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    gated.release(2);
    expect(await starter).toEqual({ config: { version: 2 } });
  });
});
