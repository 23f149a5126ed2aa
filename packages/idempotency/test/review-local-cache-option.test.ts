/**
 * Review: `localCache` is `boolean | LocalCacheOptions`, but any other value was taken as "on":
 * `localCache: 'false'` (a flag read from an environment variable), `0` or `null` kept the
 * in-memory replay cache enabled without a word, the opposite of what was asked. Such values
 * are now refused when the plugin is made (`CONFIG_INVALID`, field `localCache`).
 */
import { ConfigurationError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore } from '../src/index.js';

function attempt(localCache: unknown): unknown {
  try {
    idempotency({ store: memoryStore(), ttlMs: 60_000, localCache: localCache as boolean });
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('review: localCache takes a boolean or an options object only', () => {
  it.each([['false'], ['true'], [0], [1], [null], [[]], [[{ maxEntries: 1 }]]])('refuses %j', (value) => {
    const error = attempt(value);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'localCache' });
  });

  it.each([[undefined], [true], [false], [{}], [{ maxEntries: 5, maxBytes: 1024 }]])('takes %j', (value) => {
    expect(attempt(value)).toBeUndefined();
  });
});
