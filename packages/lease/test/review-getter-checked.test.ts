/**
 * A store's `client` / `collection` given as a getter: what the getter returns is checked at
 * use, as a value is when the store is made. A getter returning a `@steadyfn/connections` handle
 * (instead of calling its `get()`), a `MongoClient` or `Db` for a collection, or a function failed
 * every call with a `TypeError` (`client.evalsha is not a function`,
 * `collection.deleteMany is not a function`) that callers read as a retryable failure; now it is
 * a `ConfigurationError` (`CONFIG_INVALID`, the field named) before anything is sent. The same
 * check guards `@steadyfn/idempotency`'s stores, built on these (its test/review-getter-checked).
 */
import { describe, it } from 'vitest';
import { mongoLeaseStore, redisLeaseStore } from '../src/index.js';
import { expectOptionRejected } from '../../../test/support/config-errors.js';

/** What a @steadyfn/connections handle looks like to the check (its own get/acquire/name). */
const handle = { name: 'redis', get: async () => ({}), acquire: async () => ({}) };
const request = { key: 'getter-checked', owner: 'o-1', leaseMs: 1_000 };

describe('store getters return what the store needs, checked at use', () => {
  it('redisLeaseStore: a getter returning a connections handle or a function is CONFIG_INVALID naming client', async () => {
    await expectOptionRejected(() => redisLeaseStore({ client: (() => handle) as never }).claim(request), 'redisLeaseStore', 'client', ['handle.get()']);
    await expectOptionRejected(() => redisLeaseStore({ client: (() => () => undefined) as never }).get('k'), 'redisLeaseStore', 'client', ['returned a function']);
  });

  it('mongoLeaseStore: a getter returning a client or Db-like object instead of a Collection is CONFIG_INVALID naming collection', async () => {
    const db = { collection: () => undefined, command: async () => ({}) };
    await expectOptionRejected(() => mongoLeaseStore({ collection: (async () => db) as never }).claim(request), 'mongoLeaseStore', 'collection', ['a MongoDB Collection']);
  });
});
