/**
 * Review finding: the idempotency plugin turned every store failure but a foreign record into
 * the retryable `503 IDEMPOTENCY_STORE_UNAVAILABLE` ("could not be reached"), a store's typed
 * terminal refusal included — `LEASE_STORE_UNSUPPORTED` (a server without the guarantee the store
 * needs) — so HTTP callers and queues retried what no retry changes. Right: such a refusal
 * reaches the invocation with its own code, terminal, as the outbox inbox passes it; an outage
 * stays the retryable 503. Pure plugin logic: a memory lease store whose claims refuse (the real
 * stores' refusals are proven against their servers in packages/lease).
 */
import { handler } from '@steadyfn/handler';
import { LeaseStoreUnavailableError, LeaseStoreUnsupportedError, memoryLeaseStore, type LeaseStore } from '@steadyfn/lease';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { idempotencyStoreOf } from '../src/stores/lease.js';
import { httpEvent, lambdaContext, sqsRecord } from './support.js';

function refusing(error: () => Error): LeaseStore {
  const lease = memoryLeaseStore();
  return { ...lease, claim: () => Promise.reject(error()), claimMany: () => Promise.reject(error()) };
}

describe('a store that refuses for good, through the idempotency plugin', () => {
  const cases = [
    ['LEASE_STORE_UNSUPPORTED, terminal, its own code', () => new LeaseStoreUnsupportedError('unique-insert', 'the server does not refuse a second insert of one _id'), 500, 'LEASE_STORE_UNSUPPORTED'],
    ['an outage: still the retryable 503', () => new LeaseStoreUnavailableError('redis', new Error('connect ECONNREFUSED')), 503, 'IDEMPOTENCY_STORE_UNAVAILABLE'],
  ] as const;

  it.each(cases)('HTTP: %s', async (_name, error, status, code) => {
    let ran = 0;
    const lines: string[] = [];
    const main = handler({ name: 'refusing', logSink: (l) => lines.push(l), use: [idempotency({ store: idempotencyStoreOf(refusing(error)), ttlMs: 60_000, localCache: false })] }, () => {
      ran += 1;
      return { ok: true };
    });
    const res = (await main.aws(httpEvent({ key: 'k-1', body: { a: 1 } }), lambdaContext())) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(status);
    expect(ran).toBe(0);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'invocation failed');
    expect(failed).toMatchObject([{ code, retryable: status === 503 }]);
  });

  it('SQS batch: the refusal keeps its code in the log and every message is reported failed; the function never runs', async () => {
    const lines: string[] = [];
    let ran = 0;
    const main = handler({ name: 'refusing-batch', logSink: (l) => lines.push(l), use: [idempotency({ store: idempotencyStoreOf(refusing(cases[0][1])), ttlMs: 60_000, localCache: false })] }, () => {
      ran += 1;
    });
    const res = (await main.aws({ Records: [sqsRecord('m-1', { a: 1 }), sqsRecord('m-2', { a: 2 })] }, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-1', 'm-2']);
    expect(ran).toBe(0);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'invocation failed');
    expect(failed.map((l) => l.code)).toEqual(['LEASE_STORE_UNSUPPORTED', 'LEASE_STORE_UNSUPPORTED']);
    expect(failed.every((l) => l.retryable === false)).toBe(true);
  });
});
