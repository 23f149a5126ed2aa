/**
 * aws-powertools/powertools-lambda-python#4759
 * https://github.com/aws-powertools/powertools-lambda-python/issues/4759
 *
 * Lambda lets a function run a little past its timeout, and in that window
 * `getRemainingTimeInMillis()` returns 0. Powertools read 0 as "no Lambda context registered"
 * and wrote the IN_PROGRESS record without an in-progress expiry; when the invocation was then
 * killed, the record stayed IN_PROGRESS until its whole TTL, and every retry failed with
 * IdempotencyAlreadyInProgressError (an endless redelivery loop).
 *
 * steadyfn holds a key until the invocation's deadline. Replayed on Redis: an invocation whose
 * context already reports 0 ms left, then one with a little time left whose function outlives
 * it; in both cases a retry with a normal context runs the function and completes — the key is
 * never held past the deadline the context gave.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '../../packages/handler/src/index.js';
import { idempotency } from '../../packages/idempotency/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, httpEvent, lambdaContext, openBackend, silentSink, type Backend } from '../../packages/idempotency/test/support.js';

type LambdaHttp = { statusCode: number; body: string };

describe('powertools-lambda-python#4759: a context with no time left does not hold the key for the whole ttl', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await backend?.close();
  });

  const make = (fn: (input: { id: string }) => unknown) =>
    handler({ name: `timeout-${randomUUID()}`, logSink: silentSink(), input: z.object({ id: z.string() }), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, fn);

  it('remaining time 0: the invocation answers DEADLINE_EXCEEDED and the retry runs and completes', async () => {
    let runs = 0;
    const main = make((input) => ({ run: ++runs, id: input.id }));
    const key = randomUUID();
    const late = (await main.aws(httpEvent({ key, body: { id: 'o-1' } }), lambdaContext(randomUUID(), 'orders', 0))) as LambdaHttp;
    expect(late.statusCode).toBe(504);
    const retry = (await main.aws(httpEvent({ key, body: { id: 'o-1' } }), lambdaContext())) as LambdaHttp;
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body)).toEqual({ run: runs, id: 'o-1' });
    const again = (await main.aws(httpEvent({ key, body: { id: 'o-1' } }), lambdaContext())) as LambdaHttp;
    expect(JSON.parse(again.body)).toEqual(JSON.parse(retry.body));
  });

  it('a function that outlives its remaining time: after that deadline a retry takes the key over and completes', async () => {
    let runs = 0;
    let hang = true;
    const main = make(async (input) => {
      runs++;
      if (hang) {
        hang = false;
        await new Promise((resolve) => setTimeout(resolve, 3_000)); // ignores ctx.signal, as the reported handler did
      }
      return { id: input.id, run: runs };
    });
    const key = randomUUID();
    const event = () => httpEvent({ key, body: { id: 'o-2' } });
    const first = (await main.aws(event(), lambdaContext(randomUUID(), 'orders', 1_200))) as LambdaHttp;
    expect(first.statusCode).toBe(504);
    let answer: LambdaHttp | undefined;
    await eventually(async () => {
      answer = (await main.aws(event(), lambdaContext())) as LambdaHttp;
      return answer.statusCode !== 409;
    }, 15_000, 100);
    expect(answer!.statusCode).toBe(200);
    expect(JSON.parse(answer!.body)).toMatchObject({ id: 'o-2' });
  });
});
