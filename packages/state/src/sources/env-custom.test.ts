/** The two sources that need no store: environment variables, and your own function. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { custom, defineState, envVars, type Known } from '../index.js';
import { manualClock } from '../../test/support.js';

const signal = () => new AbortController().signal;
const known = <T>(loaded: { value: T; version?: unknown }): Known<T> => ({ value: loaded.value, version: loaded.version });

describe('envVars', () => {
  it('reads listed keys and a prefix (stripped by default)', async () => {
    const env = { APP_PORT: '8080', APP_MODE: 'live', HOME: '/root' };
    expect((await envVars({ prefix: 'APP_', env }).load(signal())).value).toEqual({ PORT: '8080', MODE: 'live' });
    expect((await envVars({ prefix: 'APP_', stripPrefix: false, env }).load(signal())).value).toEqual({ APP_PORT: '8080', APP_MODE: 'live' });
    expect((await envVars({ keys: ['HOME', 'MISSING'], env }).load(signal())).value).toEqual({ HOME: '/root', MISSING: undefined });
    expect(() => envVars({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'keys' }));
  });

  it('revalidates by re-reading: unchanged, or the new values', async () => {
    const env: Record<string, string> = { APP_A: '1' };
    const source = envVars({ prefix: 'APP_', env });
    const loaded = await source.load(signal());
    expect(await source.revalidate!(known(loaded), signal())).toBe('unchanged');
    env.APP_A = '2';
    expect(await source.revalidate!(known(loaded), signal())).toMatchObject({ value: { A: '2' } });
  });

  it('lets the schema judge the strings, naming the variable', async () => {
    const cache = defineState({ sources: { env: envVars({ keys: ['PORT'], env: { PORT: 'eighty' } }) }, schema: z.object({ env: z.object({ PORT: z.coerce.number().int() }) }) });
    await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_INVALID', failures: [expect.objectContaining({ field: 'env.PORT', source: 'env' })] });
  });
});

describe('custom', () => {
  it('loads with your function; without a version it has no revalidate', async () => {
    const source = custom({ load: async () => ({ ok: true }), description: 'https://flags.example' });
    expect(source.description).toBe('https://flags.example');
    expect(await source.load(signal())).toEqual({ value: { ok: true } });
    expect(source.revalidate).toBeUndefined();
  });

  it('with a version: reads it before the value, and revalidates with the version alone', async () => {
    const calls: string[] = [];
    let version = 1;
    const source = custom({
      version: () => {
        calls.push('version');
        return version;
      },
      load: () => {
        calls.push('load');
        return { version };
      },
    });
    const loaded = await source.load(signal());
    expect(loaded).toEqual({ value: { version: 1 }, version: 1 });
    expect(calls).toEqual(['version', 'load']);
    calls.length = 0;
    expect(await source.revalidate!(known(loaded), signal())).toBe('unchanged');
    expect(calls).toEqual(['version']);
    version = 2;
    calls.length = 0;
    expect(await source.revalidate!(known(loaded), signal())).toEqual({ value: { version: 2 }, version: 2 });
    expect(calls).toEqual(['version', 'load']);
  });

  it('hands its load the signal, so it can stop at the deadline', async () => {
    let seen: AbortSignal | undefined;
    const clock = manualClock();
    const cache = defineState({
      sources: {
        slow: custom({
          load: (s) => {
            seen = s;
            return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
          },
        }),
      },
      now: clock.now,
    });
    const controller = new AbortController();
    const pending = cache.get({ signal: controller.signal });
    controller.abort(new Error('deadline'));
    await expect(pending).rejects.toThrow('deadline');
    expect(seen?.aborted).toBe(true);
  });
});
