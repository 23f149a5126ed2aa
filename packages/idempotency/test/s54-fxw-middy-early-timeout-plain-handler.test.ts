/**
 * middy's early timeout (`timeoutEarlyInMillis`) with a plain handler (not `steadyHandler`) under
 * `middyPlugin()` + `toMiddy(idempotency(…))`. It used to release the record on middy's
 * `TimeoutError` (a retry ran beside the function still running) and to store middy's
 * `timeoutEarlyResponse` answer as the function's result. On the real Redis and `@middy/core`.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { middyPlugin, steadyContext, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, useBackend } from './support.js';

describe('idempotency under middy: early timeout with a plain handler (redis)', () => {
  const backend = useBackend('redis');

  async function twice(options: object) {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    let aborted: boolean | undefined;
    const main = middy(
      async (_event: unknown, context: unknown) => {
        runs++;
        const ctx = steadyContext(context as never);
        await hold;
        aborted = ctx.signal.aborted;
        return { statusCode: 201, body: 'created' };
      },
      middyPlugin({ timeoutEarlyInMillis: 29_990, ...options }),
    ).use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `p-${randomUUID().slice(0, 8)}` }));
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    const first = await main(event, lambdaContext() as never).catch((error: unknown) => error);
    const retry = await main(event, lambdaContext() as never).catch((error: unknown) => error);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    return { first, retry, runs, aborted };
  }

  it("middy's own TimeoutError: the record is left to its lease, the retry does not run", async () => {
    const got = await twice({});
    expect(got).toMatchObject({ first: { name: 'TimeoutError' }, retry: { code: 'IDEMPOTENCY_IN_PROGRESS' }, runs: 1, aborted: true });
  });

  it("timeoutEarlyResponse's 202 is not stored as the function's result: the retry gets IN_PROGRESS, not 202", async () => {
    const got = await twice({ timeoutEarlyResponse: () => ({ statusCode: 202, body: 'accepted' }) });
    expect(got).toMatchObject({ first: { statusCode: 202 }, retry: { code: 'IDEMPOTENCY_IN_PROGRESS' }, runs: 1 });
  });
});
