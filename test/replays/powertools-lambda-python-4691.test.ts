/**
 * aws-powertools/powertools-lambda-python#4691 ("Feature request: ability to not throw error on
 * full batch failure"; from powertools-lambda-typescript#2122)
 * https://github.com/aws-powertools/powertools-lambda-python/issues/4691
 *
 * When every record of a batch failed, the Powertools batch processor threw
 * `BatchProcessingError` instead of answering the partial batch response: the invocation was
 * counted as a function error (skewing error metrics and alarms for small batches, where a
 * full failure is common), and what each record's failure was went out only in the thrown
 * error. An opt-out flag (`raise_on_entire_batch_fail` / `throwOnFullBatchFailure`) was added.
 *
 * steadyfn answers a batch whose every message failed like any other partial failure: the
 * invocation returns `batchItemFailures` naming every message (Lambda returns each to the
 * queue, exactly as a thrown error would), each failure logged with its message id and code.
 * Replayed: a standard-queue batch of three whose every message fails (a retryable error, an
 * unexpected throw, a schema failure), then the redelivery, which succeeds and reports none.
 */
import { handler, RetryableError } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, logLines, sqsRecord } from './support.js';

describe('powertools-lambda-python#4691: a batch whose every message fails is answered, not thrown', () => {
  it('every message failing: the invocation returns every message id in batchItemFailures; the redelivery runs each and reports none', async () => {
    const { sink, lines } = logLines();
    let down = true;
    const ran: string[] = [];
    const main = handler({ logSink: sink, logLevel: 'warn', body: 'json', input: z.object({ id: z.string(), quantity: z.number().int() }) }, (input) => {
      ran.push(input.id);
      if (down && input.id === 'o-1') throw new RetryableError('PAYMENTS_DOWN', 'payments provider unavailable');
      if (down && input.id === 'o-3') throw new Error('socket hang up');
      return { ok: input.id };
    });
    const records = () => [sqsRecord('{"id":"o-1","quantity":1}', { id: 'm-1' }), sqsRecord('{"id":"o-2"}', { id: 'm-2' }), sqsRecord('{"id":"o-3","quantity":3}', { id: 'm-3' })];

    const first = await main.aws({ Records: records() }, lambdaContext());
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }, { itemIdentifier: 'm-3' }] });
    expect(ran).toEqual(['o-1', 'o-3']); // o-2 failed its schema and never ran
    const failed = lines.filter((l) => l.level === 'error' || l.level === 'warn');
    const byMessage = (id: string) => failed.find((l) => JSON.stringify(l).includes(id));
    expect(byMessage('m-1')).toMatchObject({ code: 'PAYMENTS_DOWN', retryable: true });
    expect(byMessage('m-2')).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'quantity' }] });
    expect(byMessage('m-3')).toMatchObject({ code: 'INTERNAL' });
    expect(JSON.stringify(failed)).not.toMatch(/\n\s+at /); // no stack traces

    down = false;
    const fixed = [sqsRecord('{"id":"o-1","quantity":1}', { id: 'm-1' }), sqsRecord('{"id":"o-2","quantity":2}', { id: 'm-2' }), sqsRecord('{"id":"o-3","quantity":3}', { id: 'm-3' })];
    expect(await main.aws({ Records: fixed }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran).toEqual(['o-1', 'o-3', 'o-1', 'o-2', 'o-3']);
  });
});
