/**
 * `redisStore` / `mongoStore` with a getter returning a `@steadyfn/connections` handle instead of
 * its client: a `ConfigurationError` (`CONFIG_INVALID`, the field named) at use — before, every
 * call failed with a `TypeError` read as a retryable store failure (the lease stores' check:
 * packages/lease/test/review-getter-checked.test.ts).
 */
import { ConfigurationError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { mongoStore, redisStore } from '../src/index.js';

const handle = { name: 'redis', get: async () => ({}), acquire: async () => ({}) };

async function refusal(call: () => Promise<unknown>): Promise<ConfigurationError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

describe('idempotency store getters', () => {
  it('a getter returning a connections handle is CONFIG_INVALID naming client / collection', async () => {
    const redis = await refusal(() => redisStore({ client: (() => handle) as never }).get('k'));
    expect(redis).toMatchObject({ code: 'CONFIG_INVALID', field: 'client' });
    const mongo = await refusal(() => mongoStore({ collection: (() => handle) as never }).get('k'));
    expect(mongo).toMatchObject({ code: 'CONFIG_INVALID', field: 'collection' });
    expect(mongo.message).toContain('mongoStore');
  });
});
