/**
 * Review: `custom({ load, version })` whose `version` answers nothing (`null`/`undefined` — an
 * HTTP API without an ETag: `res.headers.get('etag')` is `null`) kept `null` as the version, read
 * `null` again at each revalidation, took it for "unchanged" and served the first value for the
 * life of the instance. As for the store sources (review-state-missing-version.test.ts), a
 * version that is not there is no version: `load` runs each time the state is stale. Pure logic:
 * the source is in memory.
 */
import { describe, expect, it } from 'vitest';
import { custom, defineState } from '../src/index.js';

describe('custom() whose version answers nothing', () => {
  it.each([null, undefined])('version %s: a changed value is loaded once the state is stale', async (missing) => {
    let value = 1;
    let t = 0;
    const cache = defineState({ sources: { s: custom({ load: () => value, version: () => missing }) }, maxAgeMs: 1_000, now: () => t });
    expect(await cache.get()).toEqual({ s: 1 });
    value = 2;
    t += 1_001;
    expect(await cache.get()).toEqual({ s: 2 });
  });

  it('a version that appears later is then used: unchanged costs no load', async () => {
    let version: string | null = null;
    let loads = 0;
    let t = 0;
    const cache = defineState({ sources: { s: custom({ load: () => ++loads, version: () => version }) }, maxAgeMs: 1_000, now: () => t });
    await cache.get();
    version = 'v1';
    t += 1_001;
    const second = await cache.get();
    t += 1_001;
    expect(await cache.get()).toBe(second);
    expect(loads).toBe(2);
  });
});
