/**
 * `use: [connections(...), mapTimeout]` (and with a fallback between them): the function is cut off
 * by its deadline inside its own `ctx.cache.pipeline().exec()`, and an inner plugin's `onError`
 * replaces the `DEADLINE_EXCEEDED` with an error of its own (onion semantics hand the plugins
 * outside it the replacement, not the cut-off). The cut-off must still be noted — from the
 * deadline itself (`ctx.signal` aborted), not from the error's code — or the next invocation within
 * the idle threshold trusts the client unchecked (on a silently dead socket it hangs there until
 * its own deadline, again and again).
 *
 * A redis-server of this file's own, frozen (SIGSTOP) under the call and thawed after the answer:
 * the next invocation pings first (`revalidated`) instead of taking the client as `reused`.
 */
import { randomUUID } from 'node:crypto';
import { handler, RetryableError, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { redis } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

const mapTimeout: Plugin = {
  name: 'map-timeout',
  onError(_ctx, error) {
    if (error.code === 'DEADLINE_EXCEEDED') throw new RetryableError('UPSTREAM_TIMEOUT', 'Try again', { status: 503 });
  },
};

const fallback: Plugin = {
  name: 'fallback',
  onError: () => ({ answer: 'fallback' }),
};

const chains: Record<string, { inner: Plugin[]; answer: (p: Promise<unknown>) => Promise<unknown> }> = {
  'an inner onError replaced it': { inner: [mapTimeout], answer: (p) => p.catch((e: { code?: string }) => e.code) },
  'an inner onError replaced it and a fallback recovered from the replacement': { inner: [fallback, mapTimeout], answer: (p) => p },
};

describe('a DEADLINE_EXCEEDED an inner plugin replaced', () => {
  for (const [what, { inner, answer }] of Object.entries(chains)) {
    it(`${what}: the next invocation within the idle threshold pings before using the client`, async () => {
      let clock = 0; // the idle clock: invocations 1 s apart, well within the idle threshold
      const cache = redis({ url: own.url, name: `review-dr-${randomUUID().slice(0, 8)}`, pingTimeoutMs: 2_000, now: () => clock });
      const key = `review-dr:${randomUUID()}`;
      const main = handler({ use: [connections({ cache }, { closeOnSigterm: false }), ...inner], logSink: () => undefined }, async (_input: unknown, ctx) => {
        const replies = await ctx.cache.pipeline().incr(key).get(key).exec();
        return { value: replies?.[1]?.[1], state: connectionsRecord(ctx)?.cache?.state };
      });
      const call = (deadlineMs: number) => main.invoke({}, { deadline: Date.now() + deadlineMs });

      expect(await call(20_000)).toEqual({ value: '1', state: 'new' });
      own.server.freeze();
      clock += 1_000;
      // Cut off inside the pipeline; the mapper's replacement (or the fallback's answer) comes out.
      expect(await answer(call(1_500))).toBe(inner.length === 1 ? 'UPSTREAM_TIMEOUT' : 'fallback');
      const pingsBefore = cache.stats.pings;
      own.server.thaw();
      clock += 1_000;
      expect(await call(20_000)).toEqual({ value: '3', state: 'revalidated' });
      expect(cache.stats.pings - pingsBefore).toBe(1);
    }, 30_000);
  }
});
