/**
 * `use: [connections(...), fallback]`: the function is cut off by its deadline inside its own
 * `ctx.cache.pipeline().exec()` (the client's own call, which the command view does not see), and
 * `fallback.onError` recovers from `DEADLINE_EXCEEDED` with an answer. Since the onion change
 * (59f4846c) `connections`' own `onError` does not run then (the answer flows out through the
 * `after`s instead), so the cut-off must still be noted — in `finally`, from `recoveredFrom(ctx)`
 * — or the next invocation within the idle threshold trusts the client unchecked (on a silently
 * dead socket it hangs there until its own deadline, again and again).
 *
 * A redis-server of this file's own, frozen (SIGSTOP) under the call and thawed after the
 * answer: the next invocation pings first (`revalidated`, one ping in the handle's stats) instead
 * of taking the client as `reused`.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { redis } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

const fallback: Plugin = {
  name: 'fallback',
  onError: (_ctx, error) => (error.code === 'DEADLINE_EXCEEDED' ? { answer: 'fallback' } : undefined),
};

describe('a DEADLINE_EXCEEDED a later plugin recovered from', () => {
  it('leaves the clients to be checked: the next invocation within the idle threshold pings before using the client', async () => {
    let clock = 0; // the idle clock: invocations 1 s apart, well within the idle threshold
    const cache = redis({ url: own.url, name: `review-pt-${randomUUID().slice(0, 8)}`, pingTimeoutMs: 2_000, now: () => clock });
    const key = `review-pt:${randomUUID()}`;
    const main = handler({ use: [connections({ cache }, { closeOnSigterm: false }), fallback], logSink: () => undefined }, async (_input: unknown, ctx) => {
      const replies = await ctx.cache.pipeline().incr(key).get(key).exec();
      return { value: replies?.[1]?.[1], state: connectionsRecord(ctx)?.cache?.state };
    });
    const call = (deadlineMs: number) => main.invoke({}, { deadline: Date.now() + deadlineMs });

    expect(await call(20_000)).toEqual({ value: '1', state: 'new' });
    own.server.freeze();
    clock += 1_000;
    // Cut off inside the pipeline, recovered by the fallback.
    expect(await call(1_500)).toBe('fallback');
    const pingsBefore = cache.stats.pings;
    own.server.thaw();
    clock += 1_000;
    // Before (or with the finally check removed): 'reused', no ping — trusted as if nothing happened.
    expect(await call(20_000)).toEqual({ value: '3', state: 'revalidated' });
    expect(cache.stats.pings - pingsBefore).toBe(1);
  }, 30_000);
});
