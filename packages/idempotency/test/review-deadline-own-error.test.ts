/**
 * Review: the rule that leaves a record to its lease at the deadline (the function may still be
 * running: `test/review-deadline-release.test.ts`) matched the code `DEADLINE_EXCEEDED`, so a
 * function that itself threw an error with that code — a downstream timeout mapped to it (a gRPC
 * `DEADLINE_EXCEEDED`), the outbox relay's early stop, a `DeadlineExceededError` of its own —
 * long before its deadline also left its record held: every retry was `409
 * IDEMPOTENCY_IN_PROGRESS` until the lease ended (up to `leaseMs`, 5 minutes by default),
 * though the function had finished. Only the handler's own cut-off keeps the record now; such
 * an error releases it (never stored, whatever `cacheErrors` says), and the retry runs at once.
 * On Redis.
 */
import { randomUUID } from 'node:crypto';
import { DeadlineExceededError, handler, RetryableError } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { lambdaContext, openBackend, silentSink, sqsRecord, type Backend } from './support.js';

describe('review: a DEADLINE_EXCEEDED the function throws itself releases its record (redis)', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await backend?.close();
  });

  const thrown = {
    'a DeadlineExceededError of its own': () => new DeadlineExceededError('The upstream call ran out of time'),
    'a mapped gRPC DEADLINE_EXCEEDED': () => new RetryableError('DEADLINE_EXCEEDED', 'Upstream deadline exceeded', { status: 504 }),
  };

  for (const [what, make] of Object.entries(thrown)) {
    it(`${what}: the retry runs at once (not 409 until the lease ends), even with cacheErrors: () => true`, async () => {
      let runs = 0;
      const main = handler(
        { name: `dl-own-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, cacheErrors: () => true })] },
        async () => {
          runs++;
          if (runs === 1) throw make();
          return { ok: runs };
        },
      );
      const deliveryId = randomUUID();
      const first = await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 60_000 }).catch((e: unknown) => e);
      expect(first).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
      expect(await main.invoke({ a: 1 }, { deliveryId, deadline: Date.now() + 60_000 })).toEqual({ ok: 2 });
      expect(runs).toBe(2);
    });
  }

  it('a batch message whose function threw DEADLINE_EXCEEDED: its record is released in afterBatch, the other completed', async () => {
    const fn = `dl-own-batch-${randomUUID()}`;
    const main = handler({ name: fn, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] }, async (input: unknown) => {
      if ((input as { fail?: boolean }).fail) throw new DeadlineExceededError('The upstream call ran out of time');
      return { done: true };
    });
    const failing = randomUUID();
    const fine = randomUUID();
    expect(await main.aws({ Records: [sqsRecord(failing, { fail: true }), sqsRecord(fine, { fail: false })] }, lambdaContext(randomUUID(), 'orders', 60_000))).toEqual({ batchItemFailures: [{ itemIdentifier: failing }] });
    expect(await backend.store.get(storeKey(scopeOf(fn), { kind: 'delivery', value: fine }))).toMatchObject({ status: 'completed' });
    // Released, not held in progress until its lease (the deadline, a minute away) ends.
    expect((await backend.store.get(storeKey(scopeOf(fn), { kind: 'delivery', value: failing })))?.status).not.toBe('in_progress');
  });
});
