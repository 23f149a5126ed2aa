/**
 * Review: the deadline's `504 DEADLINE_EXCEEDED` is answered while the function may still be
 * running and making its effects, so its record is left to its lease ("What a caller sees").
 * With a `cacheErrors` function that said yes to it (`cacheErrors: () => true`, or any predicate
 * not written with the deadline in mind) the 504 was stored as the request's final answer:
 * every retry for `ttlMs` was told the request timed out, though the function went on and
 * made its effects. The deadline's outcome is unknown, so it is never stored now.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { eventually, silentSink, useBackend } from './support.js';

describe('review: a 504 at the deadline is never stored, whatever cacheErrors says (redis)', () => {
  const backend = useBackend('redis');

  it('the record is left to its lease, and a retry after the deadline runs the function instead of replaying the 504', async () => {
    let started = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const name = `dl-cache-${randomUUID()}`;
    const main = handler(
      { name, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, cacheErrors: () => true })] },
      async () => {
        started++;
        if (started === 1) await gate; // a call that does not listen to ctx.signal
        return { ok: started };
      },
    );
    const deliveryId = randomUUID();
    const deadline = Date.now() + 3_000;
    const first = await main.invoke({ a: 1 }, { deliveryId, deadline }).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(started).toBe(1);
    // Held until the deadline (or already gone after it), never completed with the 504.
    const record = await backend.store.get(storeKey(scopeOf(name), { kind: 'delivery', value: deliveryId }));
    expect(record?.status).not.toBe('completed');
    open();
    await eventually(() => Date.now() > deadline, 10_000);
    // The lease runs in the store from when its claim arrived (a relative PX): on a loaded machine
    // it ends a little after the deadline, so the retry is repeated while it is still in progress.
    let answer: unknown;
    await eventually(async () => {
      answer = await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 30_000 }).catch((e: unknown) => e);
      return (answer as { code?: unknown }).code !== 'IDEMPOTENCY_IN_PROGRESS';
    }, 10_000);
    expect(answer).toEqual({ ok: 2 });
  });
});
