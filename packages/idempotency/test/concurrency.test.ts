/** 1,000 invocations with one key at once: exactly one runs, on each real store. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { BACKENDS, silentSink, useBackend } from './support.js';

const N = 1000;

describe.each(BACKENDS)('1,000 concurrent invocations on %s', (name) => {
  const backend = useBackend(name);

  it('run the function exactly once; the others are told it is in progress, then replay', async () => {
    let runs = 0;
    const main = handler({ name: 'pay', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, async (raw) => {
      const input = raw as { amount: number };
      runs++;
      await new Promise((r) => setTimeout(r, 50));
      return { charged: input.amount };
    });
    const deliveryId = randomUUID();
    const results = await Promise.allSettled(Array.from({ length: N }, () => main.invoke({ amount: 7 }, { deliveryId, requestId: randomUUID() })));
    expect(runs).toBe(1);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // The first may finish while the last claims are still arriving: those replay.
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) expect(r.value).toEqual({ charged: 7 });
    expect(ok.length + refused.length).toBe(N);
    for (const r of refused) expect((r.reason as { code: string }).code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(await main.invoke({ amount: 7 }, { deliveryId })).toEqual({ charged: 7 });
    expect(runs).toBe(1);
    // On FerretDB 3.5 s in CI, 19.6 s with other test files loading the machine: the 30 s default was too near.
  }, 120_000);

  it("with onConcurrent: 'wait' all of them get the one result", async () => {
    let runs = 0;
    const main = handler(
      { name: 'pay', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, onConcurrent: 'wait' })] },
      async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 100));
        return { run: runs };
      },
    );
    const deliveryId = randomUUID();
    const results = await Promise.all(Array.from({ length: N }, () => main.invoke({}, { deliveryId, requestId: randomUUID(), deadline: Date.now() + 90_000 })));
    expect(runs).toBe(1);
    expect(results.every((r) => (r as { run: number }).run === 1)).toBe(true);
    // The waiters' deadline is not what this checks: on FerretDB they waited 3.2 s in CI and 12.6 s
    // with other test files loading the machine, too near the 20 s they had before.
  }, 120_000);
});
