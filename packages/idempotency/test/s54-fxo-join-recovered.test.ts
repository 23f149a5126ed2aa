/**
 * s54-fxo (review rvx): `pendingCompletion(ctx, result)` after an inner plugin's `onError`
 * recovered (a fallback listed after the writer: its answer flows out through the writer's
 * `after`). `result` is then the fallback's answer, not the function's; the completion carried
 * it, and a joined write stored the fallback as the key's answer for good. Now:
 *
 * - the function failed: no completion (the record is released, the retry runs the function);
 * - the function returned and a later plugin failed: the completion carries what the function
 *   returned (`functionReturned`).
 *
 * And `notJoined()`: a write that committed without the completion makes a later failure
 * complete the record with the result (the effects are written) instead of releasing it.
 * Real Redis.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler, SteadyError, type Plugin } from '@steadyfn/handler';
import { idempotency, pendingCompletion, type PendingCompletion } from '../src/index.js';
import { silentSink, useBackend } from './support.js';

const silent = { logSink: silentSink() };
const codeOf = (e: unknown): unknown => (e as { code?: unknown }).code;
const fallback: Plugin = { name: 'fallback', onError: () => ({ answer: { fallback: true } }) };

/** A writer that takes the completion in its `after` and says its write committed without it. */
function writer(): Plugin & { seen: Array<PendingCompletion | undefined> } {
  const seen: Array<PendingCompletion | undefined> = [];
  return {
    name: 'writer',
    seen,
    after(ctx, result) {
      const completion = pendingCompletion(ctx, result);
      seen.push(completion);
      completion?.notJoined();
    },
  };
}

/** A plugin whose `after` throws a retryable 503 while `down`. */
function audit(): Plugin & { down: boolean } {
  const plugin = {
    name: 'audit',
    down: true,
    after() {
      if (plugin.down) throw new SteadyError('AUDIT_FAILED', 'audit log unavailable', { status: 503, retryable: true });
      return undefined;
    },
  };
  return plugin;
}

describe('pendingCompletion after a recovery, and notJoined', () => {
  const backend = useBackend('redis');

  it('the function failed, a fallback recovered: no completion; the retry runs the function', async () => {
    const w = writer();
    let runs = 0;
    const key = `rec-${randomUUID()}`;
    const fn = handler({ ...silent, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, key: () => key }), w, fallback] }, () => {
      if (++runs === 1) throw new SteadyError('DOWN', 'down', { status: 503, retryable: true });
      return { paid: true };
    });
    expect(await fn.invoke({})).toEqual({ fallback: true });
    expect(w.seen).toEqual([undefined]);
    expect(await fn.invoke({})).toEqual({ paid: true });
    expect(JSON.parse(w.seen[1]!.answer)).toEqual({ k: 'v', v: { paid: true } });
    expect(await fn.invoke({})).toEqual({ paid: true });
    expect(runs).toBe(2);
  });

  it('the function returned, a later plugin failed, a fallback recovered: the completion carries the function\'s result', async () => {
    const w = writer();
    const x = audit();
    let runs = 0;
    const key = `rec-${randomUUID()}`;
    const fn = handler({ ...silent, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, key: () => key }), w, fallback, x] }, () => ({ paid: ++runs }));
    expect(await fn.invoke({})).toEqual({ fallback: true });
    expect(JSON.parse(w.seen[0]!.answer)).toEqual({ k: 'v', v: { paid: 1 } });
    x.down = false;
    // Committed without the completion (notJoined): the record was completed with the function's result.
    expect(await fn.invoke({})).toEqual({ paid: 1 });
    expect(runs).toBe(1);
  });

  it('notJoined: a plugin failing after a write that committed without the completion — completed, the retry replays', async () => {
    const x = audit();
    let runs = 0;
    const key = `rec-${randomUUID()}`;
    const fn = handler({ ...silent, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, key: () => key }), x, writer()] }, () => ({ paid: ++runs }));
    expect(await fn.invoke({}).catch(codeOf)).toBe('AUDIT_FAILED');
    x.down = false;
    expect(await fn.invoke({})).toEqual({ paid: 1 });
    expect(runs).toBe(1);
  });
});
