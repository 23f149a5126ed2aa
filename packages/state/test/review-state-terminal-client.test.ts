/**
 * Review: the README plugs a `@steadyfn/connections` handle into a source —
 * `redisKey({ client: () => redisHandle.get(), … })`. When the handle fails with its terminal
 * `ConfigurationError` (no `REDIS_URL`, a driver not installed: a deploy's to fix, which
 * connections makes terminal so queues stop redelivering), the state turned it into a
 * *retryable* `STATE_UNAVAILABLE` whose failure said only "ConfigurationError CONFIG_INVALID":
 * redelivered until the dead-letter queue, with the reason gone. A configuration error in a
 * source now makes the `StateError` terminal (not retryable) and keeps the error's own words
 * (they never hold values). The getter throws what `redis()` throws at first use without an
 * address; the failure is in this package's handling, not in a store.
 */
import { ConfigurationError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { defineState, redisKey, StateError, type RedisReader } from '../src/index.js';

const noAddress = (): Promise<RedisReader> =>
  Promise.reject(
    new ConfigurationError('redis(): no Redis address: pass option "url", set REDIS_URL, or give options.host/port/path', { field: 'url', expected: 'a redis:// or rediss:// URL' }),
  );

describe('a source whose client getter fails with a ConfigurationError', () => {
  it('the StateError is terminal and names the configuration error in its own words', async () => {
    const cache = defineState({ sources: { config: redisKey({ client: noAddress, key: 'app:config' }) } });
    const error = await cache.get().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).retryable).toBe(false);
    expect((error as StateError).failures[0]!.message).toContain('no Redis address');
  });

  it('a store that is down is still retryable', async () => {
    const down = (): Promise<RedisReader> => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    const error = await defineState({ sources: { config: redisKey({ client: down, key: 'app:config' }) } }).get().then(() => undefined, (e: unknown) => e);
    expect((error as StateError).retryable).toBe(true);
  });
});
