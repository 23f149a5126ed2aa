/**
 * A store's `client` / `collection` given as a getter: what the getter returns is checked at
 * use, as a value is when the store is made. A getter returning a `@steadyfn/connections` handle
 * (instead of calling its `get()`), a `MongoClient` or `Db` for a collection, or a function failed
 * every call with a `TypeError` (`client.evalsha is not a function`,
 * `collection.deleteMany is not a function`) that callers read as a retryable failure; now it is
 * a `ConfigurationError` (`CONFIG_INVALID`, the field named) before anything is sent. The same
 * check guards `@steadyfn/idempotency`'s stores, built on these (its test/review-getter-checked).
 */
import { ConfigurationError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { mongoLeaseStore, redisLeaseStore } from '../src/index.js';

/** What a @steadyfn/connections handle looks like to the check (its own get/acquire/name). */
const handle = { name: 'redis', get: async () => ({}), acquire: async () => ({}) };
const request = { key: 'getter-checked', owner: 'o-1', leaseMs: 1_000 };

async function refusal(call: () => Promise<unknown>): Promise<ConfigurationError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

describe('store getters return what the store needs, checked at use', () => {
  it('redisLeaseStore: a getter returning a connections handle or a function is CONFIG_INVALID naming client', async () => {
    const viaHandle = await refusal(() => redisLeaseStore({ client: (() => handle) as never }).claim(request));
    expect(viaHandle).toMatchObject({ code: 'CONFIG_INVALID', field: 'client' });
    expect(viaHandle.message).toContain('handle.get()');
    const viaFunction = await refusal(() => redisLeaseStore({ client: (() => () => undefined) as never }).get('k'));
    expect(viaFunction).toMatchObject({ code: 'CONFIG_INVALID', field: 'client' });
  });

  it('mongoLeaseStore: a getter returning a client or Db-like object instead of a Collection is CONFIG_INVALID naming collection', async () => {
    const db = { collection: () => undefined, command: async () => ({}) };
    const error = await refusal(() => mongoLeaseStore({ collection: (async () => db) as never }).claim(request));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'collection' });
  });
});
