/**
 * Review: a revalidation every invocation gave up on (its deadline or signal) is aborted, and the
 * next invocation starts a new one. An abort cannot stop a schema that is already running (an
 * async `refine`), so the abandoned round could still finish — after the newer round — and
 * install what it had read: the state went back to older data, served as fresh for `maxAgeMs`.
 * A round now installs its result only when no round started after it has installed one.
 */
import { describe, expect, it } from 'vitest';
import { defineState, type StateSource } from '../src/index.js';
import { gatedSchema, manualClock } from './support.js';

describe('review: an abandoned reload that finishes late does not replace a newer state', () => {
  it('the newer state stays after the older round finishes its async schema', async () => {
    const clock = manualClock();
    let current = 1;
    const source: StateSource<number> = { load: async () => ({ value: current }) };
    // Only round A (it reads 2) is held in its schema.
    const { schema, release, inSchema, outOfSchema } = gatedSchema((n) => n === 2);
    const cache = defineState({ sources: { n: source }, schema, maxAgeMs: 1_000, now: clock.now });
    expect(await cache.get()).toEqual({ n: 1 });

    // Stale: round A reads 2 and is held in the schema; its only invocation gives up.
    clock.advance(1_000);
    current = 2;
    const giveUp = new AbortController();
    const first = cache.get({ signal: giveUp.signal });
    await inSchema;
    giveUp.abort(new Error('gave up'));
    await expect(first).rejects.toThrow('gave up');

    // Round B, started after A, reads 3 and installs it.
    current = 3;
    expect(await cache.get()).toEqual({ n: 3 });

    // A finishes late.
    release();
    await outOfSchema;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(await cache.get()).toEqual({ n: 3 });
    expect(cache.status().loaded).toBe(true);
  });
});
