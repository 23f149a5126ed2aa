/**
 * Review findings (a new user's mistakes that used to pass silently or fail without a word):
 *
 * - `state(x)` with something that is not a `defineState()` result, or a `key` naming a member
 *   every ctx has (`log`, `signal`): accepted, then a TypeError / a broken ctx at run time.
 * - `defineState({ schema })` with a schema that is not zod, or whose keys name no source:
 *   accepted, then `STATE_INVALID` (or a TypeError) on every invocation.
 * - A failed load was logged with its code only (`STATE_INVALID`): nothing said which source
 *   or field. The failures are logged now, without values.
 */
import { handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '@steadyfn/handler';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { defineState, envVars, redisHash, redisKey, redisStreamEvents, state } from '../src/index.js';
import { redisClient, unique } from './support.js';

process.env.REVIEW_STATE_REGION = 'eu-west-1';
const env = () => envVars({ prefix: 'REVIEW_STATE_' });
let redis: Redis | undefined;
afterAll(() => redis?.disconnect());

describe('state() refuses what it cannot use, when it is defined', () => {
  it.each([
    ['a plain object', {}],
    ['undefined', undefined],
    ['a source instead of a cache', env()],
  ])('cache: %s', (_name, cache) => {
    const thrown = (() => {
      try {
        state(cache as never);
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field: 'cache' });
  });

  it.each(['log', 'signal', 'input', 'deadline', ''])('key: "%s"', (key) => {
    const cache = defineState({ sources: { env: env() } });
    expect(() => state(cache, { key })).toThrow(ConfigurationError);
    try {
      state(cache, { key });
    } catch (e) {
      expect(e).toMatchObject({ code: 'CONFIG_INVALID', field: 'key' });
    }
  });
});

describe('defineState() checks its schema', () => {
  it('refuses a schema that is not zod', () => {
    expect(() => defineState({ sources: { env: env() }, schema: { parse: () => ({}) } as never })).toThrow(/defineState\(\): option "schema" must be a zod schema/);
  });

  it('refuses an object schema with a key no source has (a typo would fail every load)', () => {
    try {
      defineState({ sources: { env: env() }, schema: z.object({ envs: z.object({ REGION: z.string() }) }) as never });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      expect(e).toMatchObject({ code: 'CONFIG_INVALID', field: 'schema.envs' });
      expect((e as Error).message).toContain('(env)');
    }
  });

  it('still takes object schemas over the sources, and non-object zod schemas', async () => {
    const typed = defineState({ sources: { env: env() }, schema: z.object({ env: z.object({ REGION: z.string() }) }) });
    await expect(typed.get()).resolves.toEqual({ env: { REGION: 'eu-west-1' } });
    const piped = defineState({ sources: { env: env() }, schema: z.object({ env: z.object({ REGION: z.string() }) }).transform((s) => s.env.REGION) });
    await expect(piped.get()).resolves.toBe('eu-west-1');
  });
});

describe('a failed load names its failures in the log (never the values)', () => {
  it('a Redis hash the schema refuses: the log says which source and field', async () => {
    redis = await redisClient();
    const key = unique('flags');
    await redis.hset(key, { version: '1', maxItems: 'sixty-seven-secret' });
    const lines: Array<Record<string, unknown>> = [];
    const cache = defineState({
      sources: { flags: redisHash({ client: redis, key, versionField: 'version' }) },
      schema: z.object({ flags: z.object({ maxItems: z.coerce.number().int() }) }),
    });
    const main = handler({ use: [state(cache)], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, () => 'unreachable');
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'STATE_INVALID' });
    const logged = lines.find((l) => l.msg === 'state could not be loaded');
    expect(logged).toMatchObject({ level: 'error', code: 'STATE_INVALID', failures: [{ source: 'flags', kind: 'invalid', field: 'flags.maxItems', expected: 'number' }] });
    expect(JSON.stringify(lines)).not.toContain('sixty-seven-secret');
    await redis.del(key);
  });
});

describe('a @steadyfn/connections handle where a Redis client goes', () => {
  // The shape of a connections handle: what a function keeps in module scope.
  const handle = { name: 'redis', get: async () => ({}), acquire: async () => ({}) };
  it.each([
    ['redisHash', () => redisHash({ client: handle as never, key: 'k' })],
    ['redisKey', () => redisKey({ client: handle as never, key: 'k' })],
    ['redisStreamEvents', () => redisStreamEvents({ client: handle as never, key: 'k' })],
  ])('%s() refuses it when defined, and names the getter', (owner, make) => expectOptionRefused(make, owner, 'client', ['() => handle.get()']));
});
