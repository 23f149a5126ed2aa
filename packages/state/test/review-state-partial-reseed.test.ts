/**
 * "A failed reload forgets the version" (README, staleness contract) when the store comes back
 * one key at a time. A Redis without persistence restarts; the deploy script seeds its keys
 * again one after the other, each version starting at 1 (`INCR`) — the very versions the cached
 * state was loaded at. A revalidation that runs while only some keys are back reads the seeded
 * ones in full (their versions were forgotten) but fails on the missing one, so the whole
 * reload fails and the last good state is served. The sources that did load in that failed
 * round were never installed: their versions must stay forgotten, or the next revalidation
 * takes the repeated version for "unchanged" and serves the old value for ever.
 *
 * The server is this file's own on a free port (killed and started again here), never the
 * shared one.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, redisHash, redisKey } from '../src/index.js';
import { logLines, ownRedis } from './support.js';

const rig = ownRedis();

/** What a deploy script does for each key: the value, then the version bumped after it. */
async function seedConfig(value: unknown): Promise<void> {
  await rig.writer.set('{app}:config', JSON.stringify(value));
  await rig.writer.incr('{app}:config:v');
}
async function seedFlags(maxItems: number): Promise<void> {
  await rig.writer.multi().hset('{app}:flags', 'maxItems', String(maxItems)).hincrby('{app}:flags', 'version', 1).exec();
}

function defineApp(clock: () => number, extra: { schema?: boolean } = {}) {
  return defineState({
    sources: {
      config: redisKey({ client: rig.reader, key: '{app}:config', versionKey: '{app}:config:v' }),
      flags: redisHash({ client: rig.reader, key: '{app}:flags', versionField: 'version' }),
    },
    ...(extra.schema
      ? { schema: z.object({ config: z.object({ currency: z.string() }), flags: z.object({ maxItems: z.coerce.number().int().positive() }) }).loose() }
      : {}),
    maxAgeMs: 1_000,
    staleIfErrorMs: 60_000,
    retryAfterErrorMs: 0,
    now: clock,
    logger: logLines().logger,
  });
}

describe('a Redis store seeded again key by key after losing its data', () => {
  it('a source read in full during a reload that failed on another source is still read in full next time', async () => {
    await rig.writer.flushall();
    let clock = 0;
    const app = defineApp(() => clock);
    await seedConfig({ currency: 'EUR' });
    await seedFlags(10);
    expect(await app.get()).toEqual({ config: { currency: 'EUR' }, flags: { maxItems: '10', version: '1' } });

    await rig.server.stop();
    await rig.server.start();
    clock += 2_000;
    // The store is empty: both sources fail, the last good state is served.
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    // The deploy script has seeded the config (version 1 again), not yet the flags.
    await seedConfig({ currency: 'CHF' });
    clock += 2_000;
    // config loads in full, flags is missing: the reload fails, the last good state is served.
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    await seedFlags(20);
    expect(await rig.writer.get('{app}:config:v')).toBe('1');
    expect(await rig.writer.hget('{app}:flags', 'version')).toBe('1');
    clock += 2_000;
    expect(await app.get()).toEqual({ config: { currency: 'CHF' }, flags: { maxItems: '20', version: '1' } });
    // And it stays so on the next revalidations.
    clock += 2_000;
    expect(await app.get()).toEqual({ config: { currency: 'CHF' }, flags: { maxItems: '20', version: '1' } });
  });

  it('a source read in full during a reload the schema refused is still read in full next time', async () => {
    await rig.writer.flushall();
    let clock = 0;
    const app = defineApp(() => clock, { schema: true });
    await seedConfig({ currency: 'EUR' });
    await seedFlags(10);
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    await rig.server.stop();
    await rig.server.start();
    clock += 2_000;
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    // Both seeded again, but the flags with a value the schema refuses.
    await seedConfig({ currency: 'CHF' });
    await seedFlags(0);
    clock += 2_000;
    expect((await app.get()).config).toEqual({ currency: 'EUR' });
    expect(app.status().lastError?.code).toBe('STATE_INVALID');

    // The operator fixes the flags (version 2); the config is still at version 1, as it was loaded.
    await seedFlags(20);
    clock += 2_000;
    const fixed = await app.get();
    expect(fixed.config).toEqual({ currency: 'CHF' });
    expect(fixed.flags.maxItems).toBe(20);
  });
});
