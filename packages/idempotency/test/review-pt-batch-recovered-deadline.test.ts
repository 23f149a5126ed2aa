/**
 * An SQS batch, `use: [idempotency(...), fallback]` on real Redis: one message's function hangs
 * past the deadline (a call that ignores ctx.signal: it goes on running) and is answered
 * `DEADLINE_EXCEEDED`, which `fallback.onError` recovers from; the other message completes.
 * Since the onion change (59f4846c) the recovered answer flows out through idempotency's `after`
 * (its `onError` does not run). That message's record must be left to its lease — not completed
 * with the fallback's answer (a redelivery would replay it, the effect maybe never done), not
 * released (a redelivery would run beside the function still running: a double effect) — and
 * `afterBatch`, which settles the batch's other records in one call, must skip it.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, type IdempotencyStore } from '../src/index.js';
import { deferred, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

/** The real store, with the keys of each claim (in order) and of each settle request seen on the way. */
function observed(store: IdempotencyStore): IdempotencyStore & { claimed: string[]; settled: string[] } {
  const claimed: string[] = [];
  const settled: string[] = [];
  return {
    claimed,
    settled,
    claim: (request, options) => (claimed.push(request.key), store.claim(request, options)),
    claimMany: (requests, options) => (claimed.push(...requests.map((r) => r.key)), store.claimMany(requests, options)),
    complete: (request) => (settled.push(request.key), store.complete(request)),
    release: (request) => (settled.push(request.key), store.release(request)),
    completeMany: (requests) => (settled.push(...requests.map((r) => r.key)), store.completeMany(requests)),
    get: (key, options) => store.get(key, options),
    joinable: (request) => store.joinable?.(request),
  };
}

const fallback: Plugin = {
  name: 'fallback',
  onError: (_ctx, error) => (error.code === 'DEADLINE_EXCEEDED' ? { answer: { later: true } } : undefined),
};

describe('a batch message whose DEADLINE_EXCEEDED a later plugin recovered from (real Redis)', () => {
  const backend = useBackend('redis');

  it('leaves that record to its lease (in progress, never settled by afterBatch); the other completes', async () => {
    const store = observed(backend.store);
    const hang = deferred();
    const runs: string[] = [];
    const late: string[] = [];
    // Cut off 1 s in (deadline 3 s, margin 2 s): the lease (until the deadline) outlasts the answer by 2 s.
    const main = handler({ name: `batch-${randomUUID().slice(0, 8)}`, body: 'json', deadlineMarginMs: 2_000, logSink: silentSink(), use: [idempotency({ store, ttlMs: 60_000, localCache: false }), fallback] }, async (raw) => {
      const { v } = raw as { v: string };
      runs.push(v);
      if (v === 'slow') {
        await hang.promise; // ignores ctx.signal: still running after the answer
        late.push(v);
      }
      return { done: v };
    });
    const slow = sqsRecord(`m-slow-${randomUUID()}`, { v: 'slow' });
    const fast = sqsRecord(`m-fast-${randomUUID()}`, { v: 'fast' });
    try {
      expect(await main.aws({ Records: [slow, fast] }, lambdaContext(undefined, 'orders', 3_000))).toEqual({ batchItemFailures: [] });
      expect(runs.sort()).toEqual(['fast', 'slow']);
      const [slowKey, fastKey] = store.claimed;
      expect(store.claimed).toHaveLength(2);
      // afterBatch settled the fast one only.
      expect(store.settled).toEqual([fastKey]);
      expect(await store.get(fastKey!)).toMatchObject({ status: 'completed' });
      // Before: completed with the fallback's { later: true } (after stored it), or released.
      expect(await store.get(slowKey!)).toMatchObject({ status: 'in_progress' });
      // Its redelivery within the lease does not run beside the function still running.
      expect(await main.aws({ Records: [slow] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: slow.messageId }] });
      expect(runs).toHaveLength(2);
    } finally {
      hang.resolve();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toEqual(['slow']);
  });
});
