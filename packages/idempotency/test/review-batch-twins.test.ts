/**
 * Review: one SQS message delivered twice in one batch (a standard queue's at-least-once
 * delivery). The README: "the first runs, the second is answered `IDEMPOTENCY_IN_PROGRESS` at
 * once … so it fails alone and replays on its redelivery". That holds when the first runs. When
 * the message had already completed, the first of the two replays it — and the second was still
 * answered `IDEMPOTENCY_IN_PROGRESS` (reported in `batchItemFailures`), although nothing runs:
 * the message was redelivered for nothing, each time the pair came back together, towards its
 * queue's `maxReceiveCount` and the dead-letter queue. Only a warm instance whose local cache
 * held the record answered both. Now both replay, cold or warm.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { BACKENDS, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

describe.each(BACKENDS)('review: a completed message twice in one batch on %s', (name) => {
  const backend = useBackend(name);

  const make = (fnName: string, runs: string[], localCache: boolean) =>
    handler({ name: fnName, body: 'json', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache })] }, async (raw) => {
      const input = raw as { v: string };
      runs.push(input.v);
      return { done: input.v };
    });

  it.each([
    ['local cache off', false],
    ['a cold instance (local cache on, empty)', true],
  ])('%s: both copies replay, no failure is reported, nothing runs again', async (_label, localCache) => {
    const fnName = `twins-${randomUUID()}`;
    const runs: string[] = [];
    const first = make(fnName, runs, localCache);
    expect(await first.aws({ Records: [sqsRecord('m1', { v: 'a' })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toEqual(['a']);

    const cold = make(fnName, runs, localCache);
    const redelivered = { Records: [sqsRecord('m1', { v: 'a' }), sqsRecord('m1', { v: 'a' }), sqsRecord('m2', { v: 'b' })] };
    expect(await cold.aws(redelivered, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toEqual(['a', 'b']);
  });

  it('a message not yet completed: the first copy runs, the second still fails alone and replays on its redelivery (as documented)', async () => {
    const fnName = `twins-${randomUUID()}`;
    const runs: string[] = [];
    const main = make(fnName, runs, false);
    const batch = { Records: [sqsRecord('m1', { v: 'a' }), sqsRecord('m1', { v: 'a' })] };
    expect(await main.aws(batch, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(await main.aws({ Records: [sqsRecord('m1', { v: 'a' })] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toEqual(['a']);
  });
});
