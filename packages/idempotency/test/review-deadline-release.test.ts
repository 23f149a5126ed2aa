/**
 * Review, replaying the Powertools reports on in-progress records and Lambda's remaining time
 * (powertools-lambda-python#1038, #4759): an invocation answered `DEADLINE_EXCEEDED` (504, at
 * `deadline − deadlineMarginMs`) while its function was still running — awaiting a call that
 * ignores `ctx.signal` — released its record in `onError` as if the function had failed. A retry
 * arriving between that answer and the deadline (a client retrying its 504 at once, a queue
 * redelivering) then claimed the key and ran alongside the first, both making the effect. The
 * record is now left to its lease, which ends at the invocation's deadline: the retry meets it
 * in progress (409 `IDEMPOTENCY_IN_PROGRESS`) until then, and takes it over once the deadline
 * has passed, as after a crash. The same for a batch's message. On Redis and Redis Cluster.
 *
 * No wall-clock margin decides a result: the function waits on a gate the test opens (not a
 * sleep racing the deadline), and `deadlineMarginMs` is 3 s, so the 504 comes 3 s before the
 * deadline and the checks that the record is still held (a Redis round trip or two) have those
 * 3 s, not the 150 ms the default 500 ms margin left.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { sleepUntil } from '../../../test/support/window.js';
import { deferred, eventually, lambdaContext, silentSink, sqsRecord, useBackend, type BackendName } from './support.js';

/** The handler's `deadlineMarginMs`: the 504 comes this long before the deadline. */
const MARGIN_MS = 3_000;
/** The invocation's time: the 504 comes `REMAINING_MS − MARGIN_MS` after it starts. */
const REMAINING_MS = 4_000;

/**
 * `call`'s answer once the held record's lease has ended, retrying while it is still
 * `IDEMPOTENCY_IN_PROGRESS` — for 10 s at most, well within `leaseMs` (5 minutes). The lease
 * runs in the store from when its claim arrived (a relative `PX`), so on a loaded machine it
 * ends a little after the deadline the claim was computed from, not at it.
 */
async function afterLease(call: () => Promise<unknown>): Promise<unknown> {
  let answer: unknown;
  await eventually(async () => {
    try {
      answer = await call();
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'IDEMPOTENCY_IN_PROGRESS') return false;
      throw error;
    }
  }, 10_000);
  return answer;
}

for (const name of ['redis', 'cluster'] as BackendName[]) {
  describe(`review: a function still running at its deadline keeps its record until the deadline (${name})`, () => {
    const backend = useBackend(name);

    it('a retry right after the 504 is IDEMPOTENCY_IN_PROGRESS, not a second run alongside the first; after the deadline it takes over', async () => {
      let started = 0;
      const running = deferred();
      const main = handler(
        { name: `slow-${randomUUID()}`, deadlineMarginMs: MARGIN_MS, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] },
        async () => {
          started++;
          if (started === 1) await running.promise; // a call that does not listen to ctx.signal
          return { ok: true };
        },
      );
      try {
        const deliveryId = randomUUID();
        const deadline = Date.now() + REMAINING_MS;
        const first = await main.invoke({ a: 1 }, { deliveryId, deadline }).catch((e: unknown) => e);
        expect(first).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
        // Answered deadlineMarginMs (3 s) before the deadline; the function is still running.
        expect(started).toBe(1);
        const retry = await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 30_000 }).catch((e: unknown) => e);
        expect(retry).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
        expect(started).toBe(1);
        // The first run ends (after its answer, before the deadline): its record is still left to the lease.
        running.resolve();
        // Once the deadline passed the lease has ended: the next retry runs (not leaseMs, 5 minutes, later).
        await sleepUntil(deadline);
        expect(await afterLease(() => main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 30_000 }))).toEqual({ ok: true });
        expect(started).toBe(2);
      } finally {
        running.resolve();
      }
    });

    it('a batch: the message still running at the deadline stays held until then; the message that finished is completed', async () => {
      const fn = `slow-batch-${randomUUID()}`;
      const running = deferred();
      const main = handler({ name: fn, deadlineMarginMs: MARGIN_MS, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] }, async (input: unknown) => {
        if ((input as { slow?: boolean }).slow) await running.promise;
        return { done: true };
      });
      try {
        const slow = randomUUID();
        const fast = randomUUID();
        const startedAt = Date.now();
        await main.aws({ Records: [sqsRecord(slow, { slow: true }), sqsRecord(fast, { slow: false })] }, lambdaContext(randomUUID(), 'orders', REMAINING_MS)).catch((e: unknown) => e);
        const slowKey = storeKey(scopeOf(fn), { kind: 'delivery', value: slow });
        const fastKey = storeKey(scopeOf(fn), { kind: 'delivery', value: fast });
        expect(await backend.store.get(fastKey)).toMatchObject({ status: 'completed' });
        const held = await backend.store.get(slowKey);
        const readAt = Date.now();
        expect(held).toMatchObject({ status: 'in_progress' });
        // The lease ends at the deadline (startedAt + REMAINING_MS, give or take the time the
        // calls took), not leaseMs (5 minutes) later and not at the 504.
        const leaseUntil = (held as { leaseUntil: number }).leaseUntil;
        const tookMs = readAt - startedAt;
        expect(leaseUntil).toBeGreaterThanOrEqual(startedAt + REMAINING_MS - tookMs);
        expect(leaseUntil).toBeLessThanOrEqual(startedAt + REMAINING_MS + tookMs);
      } finally {
        running.resolve();
      }
    });
  });
}
