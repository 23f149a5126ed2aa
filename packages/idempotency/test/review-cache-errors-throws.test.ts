/**
 * Review: a `cacheErrors` function that throws (a predicate reading a field the error lacks)
 * made the plugin's `onError` throw. The record was then neither stored nor released: every
 * retry got `409 IDEMPOTENCY_IN_PROGRESS` until the lease ended (up to `leaseMs`, 5 minutes by
 * default), and the caller was told `500 INTERNAL` instead of the function's own error. It now
 * counts as "do not cache": the record is released, the function's error answered, and a
 * warning `IDEMPOTENCY_CACHE_ERRORS_FAILED` logged (without the thrown message). The same for
 * one that returns no boolean: an `async` predicate's Promise counted as `true`, so every error
 * — retryable ones included — was stored and replayed for `ttlMs`.
 */
import { randomUUID } from 'node:crypto';
import { handler, RetryableError, TerminalError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, sqsRecord, useBackend } from './support.js';

const predicate = (error: { code: string }): boolean => {
  if (error.code === 'CARD_DECLINED') return true;
  throw new Error('secret-in-predicate-message');
};

describe.each(BACKENDS)('review: a cacheErrors function that throws, on %s', (name) => {
  const backend = useBackend(name);

  function make(lines: string[], fail: (input: unknown) => boolean, cacheErrors: (error: { code: string }) => boolean = predicate, retryable = false) {
    let runs = 0;
    const main = handler(
      { name: `cet-${randomUUID()}`, logLevel: 'warn', logSink: (line) => lines.push(line), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, cacheErrors })] },
      async (input) => {
        runs++;
        if (fail(input) && retryable) throw new RetryableError('UPSTREAM_DOWN', 'Upstream down');
        if (fail(input)) throw new TerminalError('OUT_OF_STOCK', 'Out of stock', { status: 409 });
        return { ok: true };
      },
    );
    return { main, runs: () => runs };
  }

  it('HTTP: the caller gets the function\'s own error, the record is released, the retry runs again', async () => {
    const lines: string[] = [];
    const { main, runs } = make(lines, () => true);
    const key = randomUUID();
    for (let i = 1; i <= 2; i++) {
      const res = (await main.aws(httpEvent({ key, body: { sku: 'tea-42' } }), lambdaContext())) as { statusCode: number; headers: Record<string, string>; body: string };
      expect(res.statusCode).toBe(409);
      expect(JSON.parse(res.body).code).toBe('OUT_OF_STOCK');
      expect(res.headers['Idempotency-Replayed']).toBeUndefined();
      expect(runs()).toBe(i);
    }
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ level: 'warn', errorCode: 'OUT_OF_STOCK', cause: 'Error' });
    expect(lines.join('\n')).not.toContain('secret-in-predicate-message');
  });

  it('SQS batch: the failed message is a batch item failure whose redelivery runs again, and the predicate\'s failure is logged', async () => {
    const lines: string[] = [];
    const { main, runs } = make(lines, (input) => (input as { n: number }).n === 2);
    const ids = [randomUUID(), randomUUID()];
    const records = () => ids.map((id, i) => sqsRecord(id, { n: i + 1 }));
    expect(await main.aws({ Records: records() }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }] });
    expect(await main.aws({ Records: records() }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }] });
    // Message 1 ran once and replayed; message 2 ran on each delivery, its record released each time.
    expect(runs()).toBe(3);
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED');
    expect(warnings.map((w) => w.errorCode)).toEqual(['OUT_OF_STOCK', 'OUT_OF_STOCK']);
  });

  it('an async cacheErrors function (a Promise, not a boolean) stores nothing: a retryable failure still runs again', async () => {
    const lines: string[] = [];
    // JavaScript callers only: TypeScript refuses a function returning a Promise here.
    const asyncPredicate = (async () => true) as unknown as (error: { code: string }) => boolean;
    const { main, runs } = make(lines, () => true, asyncPredicate, true);
    const key = randomUUID();
    for (let i = 1; i <= 2; i++) {
      const res = (await main.aws(httpEvent({ key, body: { sku: 'tea-42' } }), lambdaContext())) as { statusCode: number; headers: Record<string, string>; body: string };
      expect(JSON.parse(res.body).code).toBe('UPSTREAM_DOWN');
      expect(res.headers['Idempotency-Replayed']).toBeUndefined();
      expect(runs()).toBe(i);
    }
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED');
    // A configuration bug, the same on every call: said once per plugin instance, not per invocation.
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('returned a Promise')]);
  });
});
