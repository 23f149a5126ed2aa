/**
 * Every store-failure line of the settle path says which failure it was: `causeCode` is always
 * there, the failure's own code or `'UNKNOWN'` for a thrown value without one, under the code
 * `IDEMPOTENCY_STORE_UNAVAILABLE` that existing log queries match (an outage and a reached store
 * that answered wrongly alike). A completion whose background retries are given up
 * (`IDEMPOTENCY_COMPLETION_ABANDONED`) names the last failure's cause and code; before, it named
 * none. Never the failure's message (drivers put values and URLs with credentials in them).
 * The store is the in-memory one with failing settles: pure logic (the real-Redis foreign value
 * case is review-settle-foreign-cause.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, memoryStore, type IdempotencyStore } from '../src/index.js';
import { eventually } from '../../../test/support/wait.js';

type Line = Record<string, unknown>;
const SECRET = 'redis://app:s3cret@cache:6379';

/** The memory store, except that every completion and release throws `thrown()`. */
function settlesThrow(thrown: () => unknown): IdempotencyStore {
  const store = memoryStore();
  return {
    ...store,
    complete: () => Promise.reject(thrown()),
    release: () => Promise.reject(thrown()),
    completeMany: () => Promise.reject(thrown()),
  };
}

async function run(store: IdempotencyStore): Promise<Line[]> {
  const lines: string[] = [];
  const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 60_000, localCache: false })] }, () => ({ ok: true }));
  expect(await main.invoke({}, { deliveryId: randomUUID() })).toEqual({ ok: true });
  return lines.map((l) => JSON.parse(l) as Line);
}

describe('settle store-failure lines always carry causeCode', () => {
  it("a coded failure: IDEMPOTENCY_STORE_UNAVAILABLE with its cause and code; an uncoded one: causeCode 'UNKNOWN'", async () => {
    const cases: Array<[unknown, Line]> = [
      [Object.assign(new Error(`connect ECONNREFUSED ${SECRET}`), { code: 'LEASE_STORE_UNAVAILABLE' }), { cause: 'Error', causeCode: 'LEASE_STORE_UNAVAILABLE' }],
      [Object.assign(new Error(`wrong answer from ${SECRET}`), { code: 'LEASE_RECORD_UNREADABLE', retryable: false }), { cause: 'Error', causeCode: 'LEASE_RECORD_UNREADABLE' }],
      [new TypeError(`Cannot read properties of undefined (${SECRET})`), { cause: 'TypeError', causeCode: 'UNKNOWN' }],
      [SECRET, { cause: 'string', causeCode: 'UNKNOWN' }],
    ];
    for (const [thrown, facts] of cases) {
      const lines = await run(settlesThrow(() => thrown));
      const failed = lines.filter((l) => String(l.msg).startsWith('idempotency record could not be completed'));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ level: 'error', code: 'IDEMPOTENCY_STORE_UNAVAILABLE', ...facts });
      expect(JSON.stringify(lines)).not.toContain('s3cret');
    }
  });

  it('a completion given up names the last failure: IDEMPOTENCY_COMPLETION_ABANDONED with cause and causeCode', async () => {
    let calls = 0;
    // The first call fails as an outage; the retries meet a store that answers what it cannot settle.
    const store = settlesThrow(() => (++calls === 1 ? Object.assign(new Error(SECRET), { code: 'LEASE_STORE_UNAVAILABLE' }) : Object.assign(new RangeError(SECRET), { code: 'ERR_STORE_REPLY' })));
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 400, allowShortLease: true, localCache: false })] }, () => ({ ok: true }));
    expect(await main.invoke({}, { deliveryId: randomUUID() })).toEqual({ ok: true });
    await eventually(() => lines.some((l) => l.includes('IDEMPOTENCY_COMPLETION_ABANDONED')));
    expect(calls).toBeGreaterThan(1);
    const abandoned = JSON.parse(lines.find((l) => l.includes('IDEMPOTENCY_COMPLETION_ABANDONED'))!) as Line;
    expect(abandoned).toMatchObject({ level: 'error', code: 'IDEMPOTENCY_COMPLETION_ABANDONED', cause: 'RangeError', causeCode: 'ERR_STORE_REPLY' });
    expect(lines.join('\n')).not.toContain('s3cret');
  });

  it('a completion refused for good on its retry (not retryable) is given up with that cause code', async () => {
    let calls = 0;
    const store = settlesThrow(() => (++calls === 1 ? new Error('Connection is closed.') : Object.assign(new Error(SECRET), { code: 'LEASE_RECORD_UNREADABLE', retryable: false })));
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 60_000, localCache: false })] }, () => ({ ok: true }));
    expect(await main.invoke({}, { deliveryId: randomUUID() })).toEqual({ ok: true });
    await eventually(() => lines.some((l) => l.includes('IDEMPOTENCY_COMPLETION_ABANDONED')));
    expect(calls).toBe(2);
    const first = JSON.parse(lines.find((l) => l.includes('IDEMPOTENCY_STORE_UNAVAILABLE'))!) as Line;
    expect(first).toMatchObject({ cause: 'Error', causeCode: 'UNKNOWN' });
    expect(JSON.parse(lines.find((l) => l.includes('IDEMPOTENCY_COMPLETION_ABANDONED'))!) as Line).toMatchObject({ causeCode: 'LEASE_RECORD_UNREADABLE' });
    expect(lines.join('\n')).not.toMatch(/s3cret|Connection is closed/);
  });
});
