/**
 * aws-powertools/powertools-lambda-python#5150 ("response hook is not called when idempotent
 * function returns `None`", fixed by PR #5251) and powertools-lambda-typescript PR #2521
 * ("handle functions with no return value")
 * https://github.com/aws-powertools/powertools-lambda-python/issues/5150
 *
 * A function made idempotent for its side effects alone returns nothing. Powertools for Python
 * stored that as `"null"` and then treated the replay as if there were no stored response (the
 * response hook was skipped); Powertools for TypeScript, before #2521, expected a value to store
 * and did not work on such functions at all. Either way, a duplicate of a call whose function
 * returned nothing was not handled like any other duplicate.
 *
 * steadyfn stores "returned nothing" as a result like any other. Replayed on Redis with two
 * handler instances sharing the store (no local cache): a function that returns `undefined` for
 * an HTTP POST with an Idempotency-Key, and for an SQS message; the duplicate on the other
 * instance does not run the function and is answered as the first was, marked replayed.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '../../packages/handler/src/index.js';
import { idempotency } from '../../packages/idempotency/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpEvent, lambdaContext as idemContext, openBackend, silentSink, type Backend } from '../../packages/idempotency/test/support.js';
import { lambdaContext, sqsRecord } from './support.js';

type LambdaHttp = { statusCode: number; headers?: Record<string, string>; body?: string };

describe('powertools-lambda-python#5150: a function that returns nothing is replayed like any other', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await backend?.close();
  });

  const instances = (name: string, effects: string[]) =>
    [1, 2].map(() =>
      handler({ name, logSink: silentSink(), input: z.object({ id: z.string() }), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, (input): void => {
        effects.push(input.id);
      }),
    );

  it('HTTP: the duplicate on another instance does not run and gets the same answer, marked replayed', async () => {
    const effects: string[] = [];
    const [a, b] = instances(`void-http-${randomUUID()}`, effects);
    const key = randomUUID();
    const first = (await a!.aws(httpEvent({ key, body: { id: 'o-1' } }), idemContext())) as LambdaHttp;
    const second = (await b!.aws(httpEvent({ key, body: { id: 'o-1' } }), idemContext())) as LambdaHttp;
    expect(effects).toEqual(['o-1']);
    expect(first.statusCode).toBeLessThan(300);
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.body ?? '').toBe(first.body ?? '');
    expect(second.headers?.['idempotency-replayed'] ?? second.headers?.['Idempotency-Replayed']).toBe('true');
  });

  it('SQS: the redelivered message on another instance does not run; both batches answer no failures', async () => {
    const effects: string[] = [];
    const [a, b] = instances(`void-sqs-${randomUUID()}`, effects);
    const message = sqsRecord('{"id":"o-2"}', { id: randomUUID() });
    expect(await a!.aws({ Records: [message] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await b!.aws({ Records: [{ ...message, receiptHandle: `AQEB${randomUUID()}`, attributes: { ...message.attributes, ApproximateReceiveCount: '2' } }] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(effects).toEqual(['o-2']);
  });
});
