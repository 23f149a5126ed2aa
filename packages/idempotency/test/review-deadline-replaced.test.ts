/**
 * Review: an inner plugin's `onError` that maps the handler's `DEADLINE_EXCEEDED` to an error of
 * its own (an upstream-timeout 503, say) — onion semantics hand the plugins outside it the
 * replacement, not the cut-off. The function may still be running (it awaited a call that does not
 * listen to `ctx.signal`), so the record must still be left to its lease, not released for a retry
 * to run beside it: past the deadline (`ctx.signal` aborted) idempotency leaves it, whatever code
 * the error or the recovered answer now carries. The same when a further plugin recovers from the
 * replacement. On Redis.
 */
import { randomUUID } from 'node:crypto';
import { handler, RetryableError, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { silentSink, useBackend } from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Maps the cut-off to a 503 of its own: throws the replacement. */
const mapTimeout: Plugin = {
  name: 'map-timeout',
  onError(_ctx, error) {
    if (error.code === 'DEADLINE_EXCEEDED') throw new RetryableError('UPSTREAM_TIMEOUT', 'Try again', { status: 503 });
  },
};

/** Answers for any failure (a fallback). */
const fallback: Plugin = {
  name: 'fallback',
  onError: () => ({ answer: { statusCode: 503, body: 'later' } }),
};

describe('review: a DEADLINE_EXCEEDED replaced by an inner onError still leaves the record to its lease (redis)', () => {
  const backend = useBackend('redis');

  const chains = {
    'replaced (the replacement is the answer)': [mapTimeout],
    'replaced, then recovered by a fallback outside the mapper': [fallback, mapTimeout],
  };

  for (const [what, inner] of Object.entries(chains)) {
    it(`${what}: the record stays in progress, not released`, async () => {
      let started = 0;
      const fn = `dl-replaced-${randomUUID()}`;
      const main = handler(
        { name: fn, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false }), ...inner] },
        async () => {
          started++;
          await sleep(1_500); // a call that does not listen to ctx.signal
          return { ok: true };
        },
      );
      const deliveryId = randomUUID();
      // Answered at deadline − deadlineMarginMs (500 ms): 200 ms in, the function still running.
      await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 700 }).catch((e: unknown) => e);
      expect(started).toBe(1);
      const record = await backend.store.get(storeKey(scopeOf(fn), { kind: 'delivery', value: deliveryId }));
      expect(record).toMatchObject({ status: 'in_progress' });
    });
  }
});
