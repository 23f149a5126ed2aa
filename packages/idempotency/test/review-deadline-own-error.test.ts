/**
 * Review: a `DEADLINE_EXCEEDED` the function throws itself keeps its record held until the
 * lease ends, like the handler's own cut-off. Its usual source is a `Promise.race` of work
 * against a timer, whose losing work keeps running: releasing the record (as a short-lived
 * change did, to spare retries a 409) would let a retry run beside that work — two effects.
 * The retry is `409 IDEMPOTENCY_IN_PROGRESS` meanwhile; nothing is stored, even with
 * `cacheErrors: () => true`. On Redis.
 */
import { randomUUID } from 'node:crypto';
import { DeadlineExceededError, handler, RetryableError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { silentSink, useBackend } from './support.js';

describe('review: a DEADLINE_EXCEEDED the function throws itself holds its record (redis)', () => {
  const backend = useBackend('redis');

  const thrown = {
    'a DeadlineExceededError of its own (a lost Promise.race)': () => new DeadlineExceededError('The upstream call ran out of time'),
    'a mapped gRPC DEADLINE_EXCEEDED': () => new RetryableError('DEADLINE_EXCEEDED', 'Upstream deadline exceeded', { status: 504 }),
  };

  for (const [what, make] of Object.entries(thrown)) {
    it(`${what}: the record stays held, the retry is 409 and does not run, even with cacheErrors: () => true`, async () => {
      let runs = 0;
      const fn = `dl-own-${randomUUID()}`;
      const main = handler(
        { name: fn, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, cacheErrors: () => true })] },
        async () => {
          runs++;
          throw make();
        },
      );
      const deliveryId = randomUUID();
      const first = await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 60_000 }).catch((e: unknown) => e);
      expect(first).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
      expect(await backend.store.get(storeKey(scopeOf(fn), { kind: 'delivery', value: deliveryId }))).toMatchObject({ status: 'in_progress' });
      const retry = await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 60_000 }).catch((e: unknown) => e);
      expect(retry).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
      expect(runs).toBe(1);
    });
  }
});
