/**
 * `redisStore` / `mongoStore` with a getter returning a `@steadyfn/connections` handle instead of
 * its client: a `ConfigurationError` (`CONFIG_INVALID`, the field named) at use — before, every
 * call failed with a `TypeError` read as a retryable store failure (the lease stores' check:
 * packages/lease/test/review-getter-checked.test.ts).
 */
import { describe, it } from 'vitest';
import { mongoStore, redisStore } from '../src/index.js';
import { expectOptionRejected } from '../../../test/support/config-errors.js';

const handle = { name: 'redis', get: async () => ({}), acquire: async () => ({}) };

describe('idempotency store getters', () => {
  it('a getter returning a connections handle is CONFIG_INVALID naming client / collection', async () => {
    // Both name the function the user called, not the lease store built for it.
    await expectOptionRejected(() => redisStore({ client: (() => handle) as never }).get('k'), 'redisStore', 'client', ['handle.get()']);
    await expectOptionRejected(() => redisStore({ client: (() => handle) as never, hashTag: 'scope' }).get('s:k'), 'redisStore', 'client', ['handle.get()']);
    await expectOptionRejected(() => mongoStore({ collection: (() => handle) as never }).get('k'), 'mongoStore', 'collection');
  });
});
