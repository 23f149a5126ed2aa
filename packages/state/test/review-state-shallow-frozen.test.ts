/**
 * Review: "Plain objects and arrays of the state are frozen all the way down" (README, Frozen).
 * A source whose value is already frozen at its top only — `Object.freeze(await res.json())` in
 * a `custom` loader, or a value a `z.any()`/`z.unknown()` schema passes through by reference —
 * was taken as frozen all the way down and not walked: its nested objects stayed writable, so an
 * invocation that changed one changed the state every later invocation of the instance is served.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { custom, defineState } from '../src/index.js';

const fetched = () => Object.freeze({ limits: { maxItems: 5 }, regions: ['eu-west-1'] });

describe('a source value frozen only at its top', () => {
  it('without a schema: every nested object and array of the state is frozen', async () => {
    const cache = defineState({ sources: { remote: custom({ load: fetched }) } });
    const state = await cache.get();
    expect(Object.isFrozen(state.remote.limits)).toBe(true);
    expect(Object.isFrozen(state.remote.regions)).toBe(true);
  });

  it('through a schema that passes the value by reference (z.any()): frozen all the way down too', async () => {
    const cache = defineState({ sources: { remote: custom({ load: fetched }) }, schema: z.object({ remote: z.any() }) });
    const state = (await cache.get()) as { remote: { limits: object; regions: string[] } };
    expect(Object.isFrozen(state.remote.limits)).toBe(true);
    expect(Object.isFrozen(state.remote.regions)).toBe(true);
  });
});
