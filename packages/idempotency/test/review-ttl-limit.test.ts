/**
 * Review: `ttlMs` and `leaseMs` the plugin accepts must be durations its stores can keep.
 * `@steadyfn/lease` refuses a `keepMs` or `leaseMs` past 10^12 ms (about 31 years) with a
 * non-retryable `LEASE_REQUEST_INVALID`. `idempotency()` took both up to 2^53 − 1. Measured on
 * Redis before the fix: with `ttlMs: 2e12` (someone asking for "forever") the first call ran and
 * answered, its completion was refused ("the store refused it, not retried"), the duplicate was
 * told 409 `IDEMPOTENCY_IN_PROGRESS` while the claim's lease lasted and would then run again;
 * with `leaseMs: 2e12` an invocation without a deadline (`invoke()`) failed every time with
 * `IDEMPOTENCY_STORE_UNAVAILABLE` (503, retryable) from a healthy store. Such an option must be
 * refused when `idempotency()` is called, naming it, as the README promises for a bad option.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { silentSink, useBackend } from './support.js';

describe('review: durations past what the lease stores keep', () => {
  const backend = useBackend('redis');

  it.each([
    ['ttlMs', { ttlMs: 2e12 }],
    ['leaseMs', { ttlMs: 60_000, leaseMs: 2e12 }],
  ])('%s past 10^12 ms is refused by idempotency() with CONFIG_INVALID naming it', (field, options) => {
    let error: unknown;
    try {
      idempotency({ store: backend.store, ...options });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain(`"${field}"`);
  });

  it('the longest ttlMs accepted (10^12 ms) completes, and a duplicate replays instead of running again', async () => {
    let runs = 0;
    const main = handler(
      { name: `ttl-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 1e12, leaseMs: 1e12, localCache: false })] },
      async (raw) => {
      const input = raw as { id: string };
        runs++;
        return { done: input.id };
      },
    );
    expect(await main.invoke({ id: 'a' })).toEqual({ done: 'a' });
    expect(await main.invoke({ id: 'a' })).toEqual({ done: 'a' });
    expect(runs).toBe(1);
  });
});
