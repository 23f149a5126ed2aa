/**
 * Review: a result too large for a MongoDB document (16 MiB BSON; FerretDB the same). Measured
 * before the fix on FerretDB, an SQS handler returning a 17 MiB result: its completion insert
 * failed, was logged "retried until its lease ends" and retried in the background (every try
 * failing the same way) until the lease ended (`IDEMPOTENCY_COMPLETION_ABANDONED`); meanwhile a
 * redelivery was told `IDEMPOTENCY_IN_PROGRESS` (a batch item failure), and once the lease ended
 * the function ran again. The README's rule for a result the store cannot keep (a `BigInt`) is
 * that the record is released at once with the warning `IDEMPOTENCY_RESULT_NOT_STORABLE`, so a
 * retry runs again without waiting for the lease: a result over the store's size is one.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { lambdaContext, sqsRecord, useBackend } from './support.js';

describe('review: a result over MongoDB\'s document size', () => {
  const backend = useBackend('mongodb');

  it('is not stored: the record is released with IDEMPOTENCY_RESULT_NOT_STORABLE, and a redelivery runs at once instead of meeting it in progress', async () => {
    const codes: string[] = [];
    const sink = (line: string) => {
      const code = (JSON.parse(line) as { code?: unknown }).code;
      if (typeof code === 'string') codes.push(code);
    };
    let runs = 0;
    const big = 'x'.repeat(17 * 1024 * 1024);
    const main = handler(
      { name: `big-${randomUUID()}`, body: 'json', logSink: sink, logLevel: 'warn', use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] },
      async () => {
        runs++;
        return { big };
      },
    );
    expect(await main.aws({ Records: [sqsRecord('m1', { v: 1 })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(codes).toContain('IDEMPOTENCY_RESULT_NOT_STORABLE');
    expect(codes).not.toContain('IDEMPOTENCY_STORE_UNAVAILABLE');
    expect(await main.aws({ Records: [sqsRecord('m1', { v: 1 })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toBe(2);
  }, 60_000);

  it('a result just under the limit is still stored and replayed', async () => {
    let runs = 0;
    const text = 'y'.repeat(15 * 1024 * 1024);
    const main = handler({ name: `big-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] }, async () => {
      runs++;
      return { text };
    });
    expect(((await main.invoke({ id: 1 })) as { text: string }).text.length).toBe(text.length);
    expect(((await main.invoke({ id: 1 })) as { text: string }).text.length).toBe(text.length);
    expect(runs).toBe(1);
  }, 60_000);
});
