/**
 * Review: the README's "What a caller sees" table named the `scope` function's non-string but
 * not the `key` function's. A key function that returns a number (an `orderId` typed loosely)
 * is a terminal `500 IDEMPOTENCY_KEY_INVALID` and nothing runs — now in the table; this pins it.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

describe('review: a key function returning a non-string', () => {
  const backend = useBackend('redis');

  it('is 500 IDEMPOTENCY_KEY_INVALID, not retryable, and the function does not run', async () => {
    let runs = 0;
    const main = handler(
      { name: `kf-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, key: (ctx) => (ctx.input as { orderId: string }).orderId })] },
      async () => ++runs,
    );
    const res = (await main.aws(httpEvent({ body: { orderId: 42 } }), lambdaContext())) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    await expect(main.invoke({ orderId: 42 })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID', retryable: false });
    expect(runs).toBe(0);
  });
});
