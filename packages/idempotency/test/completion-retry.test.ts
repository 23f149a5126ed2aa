/**
 * A completion whose store call fails (the store restarting, reached through a client that
 * fails at once while disconnected) is retried in the background while the claim's lease
 * lasts: the answer goes out at once, the record completes once the store answers again, and
 * the duplicate replays instead of running the function a second time. The multi-process
 * version against a real redis-server restarted mid-storm is built-storm.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, memoryStore, type IdempotencyStore } from '../src/index.js';
import { eventually } from '../../../test/support/wait.js';

/** A store whose first `failures` completions throw, as a store that is down would. */
function downForCompletions(store: IdempotencyStore, failures: number): IdempotencyStore & { completes: number } {
  const counted = {
    ...store,
    completes: 0,
    async complete(...args: Parameters<IdempotencyStore['complete']>) {
      counted.completes++;
      if (counted.completes <= failures) throw new Error('Connection is closed.');
      return store.complete(...args);
    },
  };
  return counted;
}

describe('a completion that meets a store outage', () => {
  it('answers, completes once the store is back within the lease, and the duplicate replays', async () => {
    const store = downForCompletions(memoryStore(), 3);
    const lines: string[] = [];
    let runs = 0;
    const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 60_000, localCache: false })] }, () => ({ run: ++runs }));
    const deliveryId = randomUUID();
    expect(await main.invoke({}, { deliveryId })).toEqual({ run: 1 });
    expect(lines.some((l) => l.includes('IDEMPOTENCY_STORE_UNAVAILABLE'))).toBe(true);
    await eventually(() => store.completes === 4);
    expect(await main.invoke({}, { deliveryId })).toEqual({ run: 1 });
    expect(runs).toBe(1);
    expect(lines.join('\n')).not.toMatch(/LEASE_LOST|COMPLETION_ABANDONED|Connection is closed|at .*\.ts:/);
  });

  it('a completion the store refuses as not retryable is not retried, and the log line does not promise it', async () => {
    const base = memoryStore();
    let completes = 0;
    const store: IdempotencyStore = {
      ...base,
      async complete() {
        completes++;
        throw Object.assign(new Error('record refused'), { retryable: false });
      },
    };
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 60_000, localCache: false })] }, () => ({ ok: true }));
    expect(await main.invoke({}, { deliveryId: randomUUID() })).toEqual({ ok: true });
    const line = lines.find((l) => l.includes('IDEMPOTENCY_STORE_UNAVAILABLE'));
    expect(line).toContain('not retried');
    expect(line).not.toContain('retried until its lease ends');
    // A retry would come after 50 ms; none does.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(completes).toBe(1);
  });

  it('gives up when the lease ends: the record expires and the retry runs (nothing else to do then)', async () => {
    const store = downForCompletions(memoryStore(), Number.POSITIVE_INFINITY);
    const lines: string[] = [];
    let runs = 0;
    const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 400, localCache: false })] }, () => ({ run: ++runs }));
    const deliveryId = randomUUID();
    expect(await main.invoke({}, { deliveryId })).toEqual({ run: 1 });
    // Retried while the 400 ms lease lasts...
    await eventually(() => store.completes >= 2);
    // ...and when it gives up, it says so: a second effect after this is explained in the logs.
    await eventually(() => lines.some((l) => l.includes('IDEMPOTENCY_COMPLETION_ABANDONED')));
    expect(String((JSON.parse(lines.find((l) => l.includes('IDEMPOTENCY_COMPLETION_ABANDONED'))!) as { level: unknown }).level).toLowerCase()).toBe('error');
    // ...and once it is over, the record is free again: a retry runs the function (told 409 until then).
    let again: unknown;
    await eventually(async () => {
      again = await main.invoke({}, { deliveryId }).catch((error: { code?: string }) => {
        if (error.code !== 'IDEMPOTENCY_IN_PROGRESS') throw error;
        return undefined;
      });
      return again !== undefined;
    });
    expect(again).toEqual({ run: 2 });
  });
});
