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
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, redisHash, redisKey } from '../src/index.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { logLines } from './support.js';

let server: OwnServer & { url: string };
let writer: Redis;
let reader: Redis;

beforeAll(async () => {
  server = await startRedis();
  writer = new Redis(server.url, { maxRetriesPerRequest: 1 });
  reader = new Redis(server.url, { maxRetriesPerRequest: 1 });
  // Reconnect attempts while the server is down are expected.
  writer.on('error', () => undefined);
  reader.on('error', () => undefined);
});

afterAll(async () => {
  writer?.disconnect();
  reader?.disconnect();
  await server?.dispose();
});

/** What a deploy script does for each key: the value, then the version bumped after it. */
async function seedConfig(value: unknown): Promise<void> {
  await writer.set('{app}:config', JSON.stringify(value));
  await writer.incr('{app}:config:v');
}
async function seedFlags(maxItems: number): Promise<void> {
  await writer.multi().hset('{app}:flags', 'maxItems', String(maxItems)).hincrby('{app}:flags', 'version', 1).exec();
}

function defineApp(clock: () => number, extra: { schema?: boolean } = {}) {
  return defineState({
    sources: {
      config: redisKey({ client: reader, key: '{app}:config', versionKey: '{app}:config:v' }),
      flags: redisHash({ client: reader, key: '{app}:flags', versionField: 'version' }),
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
    await writer.flushall();
    let clock = 0;
    const app = defineApp(() => clock);
    await seedConfig({ currency: 'EUR' });
    await seedFlags(10);
    expect(await app.get()).toEqual({ config: { currency: 'EUR' }, flags: { maxItems: '10', version: '1' } });

    await server.stop();
    await server.start();
    clock += 2_000;
    // The store is empty: both sources fail, the last good state is served.
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    // The deploy script has seeded the config (version 1 again), not yet the flags.
    await seedConfig({ currency: 'CHF' });
    clock += 2_000;
    // config loads in full, flags is missing: the reload fails, the last good state is served.
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    await seedFlags(20);
    expect(await writer.get('{app}:config:v')).toBe('1');
    expect(await writer.hget('{app}:flags', 'version')).toBe('1');
    clock += 2_000;
    expect(await app.get()).toEqual({ config: { currency: 'CHF' }, flags: { maxItems: '20', version: '1' } });
    // And it stays so on the next revalidations.
    clock += 2_000;
    expect(await app.get()).toEqual({ config: { currency: 'CHF' }, flags: { maxItems: '20', version: '1' } });
  });

  it('a source read in full during a reload the schema refused is still read in full next time', async () => {
    await writer.flushall();
    let clock = 0;
    const app = defineApp(() => clock, { schema: true });
    await seedConfig({ currency: 'EUR' });
    await seedFlags(10);
    expect((await app.get()).config).toEqual({ currency: 'EUR' });

    await server.stop();
    await server.start();
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
