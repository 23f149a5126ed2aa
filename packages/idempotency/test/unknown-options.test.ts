/**
 * An option key a factory does not know — a typo, or the name before the `…Ms` convention
 * (`ttl` for `ttlMs`) — would be ignored and leave the default in force without a word: every
 * factory of this package refuses it, with its dotted path. Every documented option (read from
 * the options types with the TypeScript checker) is accepted.
 */
import { fileURLToPath } from 'node:url';
import { createLogger } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore, mongoStore, redisStore, type IdempotencyOptions, type MongoStoreOptions, type RedisStoreOptions } from '../src/index.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { documentedOptionKeys } from '../../../test/support/option-types.js';

const src = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
const noClient = (): never => {
  throw new Error('not called while options are checked');
};

describe('idempotency(): unknown option keys', () => {
  const store = memoryStore();

  it('refuses a pre-Ms name, pointing at the …Ms option and listing the options', () => {
    expectOptionRefused(() => idempotency({ store, ttl: 3600 } as never), 'idempotency', 'ttl', ['"ttlMs"', 'store, key, required, ttlMs, leaseMs']);
    expectOptionRefused(() => idempotency({ store, ttlMs: 1000, lease: 5 } as never), 'idempotency', 'lease', ['"leaseMs"']);
  });

  it('refuses a misspelt key, at the top level and in localCache', () => {
    expectOptionRefused(() => idempotency({ store, ttlMs: 1000, onConcurent: 'wait' } as never), 'idempotency', 'onConcurent', ['onConcurrent']);
    expectOptionRefused(() => idempotency({ store, ttlMs: 1000, localCache: { maxEntry: 5 } } as never), 'idempotency', 'localCache.maxEntry', ['maxEntries, maxBytes']);
  });

  it('accepts every documented option, and an unknown key holding undefined', () => {
    const all: Required<IdempotencyOptions> = { store, key: 'auto', required: true, ttlMs: 1000, leaseMs: 1000, allowShortLease: true, onConcurrent: 'wait', cacheErrors: false, localCache: { maxEntries: 10, maxBytes: 1000 }, namespace: 'n', scope: 'principal' };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('options.ts'), 'IdempotencyOptions'));
    expect(Object.keys(all.localCache).sort()).toEqual(documentedOptionKeys(src('options.ts'), 'LocalCacheOptions'));
    expect(() => idempotency({ ...all, ttl: undefined } as never)).not.toThrow();
  });
});

describe('store factories: unknown option keys', () => {
  it('redisStore() refuses a misspelt key and accepts every documented one', () => {
    expectOptionRefused(() => redisStore({ client: noClient, prefx: 'x:' } as never), 'redisStore', 'prefx', ['client, prefix, hashTag, logger']);
    const all: Required<RedisStoreOptions> = { client: noClient, prefix: 'idem:', hashTag: 'scope', logger: createLogger() };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('stores/redis.ts'), 'RedisStoreOptions'));
    expect(() => redisStore(all)).not.toThrow();
  });

  it('mongoStore() refuses a pre-Ms name and accepts every documented one', () => {
    expectOptionRefused(() => mongoStore({ collection: noClient, retain: 200_000 } as never), 'mongoStore', 'retain', ['"retainMs"']);
    const all: Required<MongoStoreOptions> = { collection: noClient, retainMs: 200_000 };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('stores/mongodb.ts'), 'MongoStoreOptions'));
    expect(() => mongoStore(all)).not.toThrow();
  });

  it('redisStore() names itself, not the lease store it is built on, for a prefix that is not a string', () => {
    expect(() => redisStore({ client: noClient, prefix: 5 } as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^redisStore\(\): option "prefix"/) }));
  });

  it('mongoStore() names itself, not the lease store it is built on, for a bad collection or retainMs', () => {
    for (const [options, field] of [
      [{ collection: 5 }, 'collection'],
      [{ collection: noClient, retainMs: 5 }, 'retainMs'],
      [{ collection: noClient, retainMs: '1h' }, 'retainMs'],
    ] as const) {
      let thrown: unknown;
      try {
        mongoStore(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ field }], message: expect.stringMatching(new RegExp(`^mongoStore\\(\\): option "${field}"`)) });
    }
  });
});
