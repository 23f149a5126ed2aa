/**
 * `middyPlugin()` with several requests in one process (middy runs concurrent invocations:
 * serverless-offline in-process, Lambda multi-concurrency) and a plain async `before` listed
 * before the `toMiddy()` ones. The plugin used to drop, at each `requestStart`, every open request
 * no steadyfn middleware had entered yet — a request still in its plain `before` is live — and
 * then, with one request left, to mark it for middy's early timeout whatever its remaining time:
 * A timed out, B (hours left) was marked. A's record was released while A ran (its retry ran A
 * again) and B's answer was not stored (its retry got IDEMPOTENCY_IN_PROGRESS). On the real
 * Redis and `@middy/core`.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { middyPlugin, toMiddy } from '@steadyfn/handler/middy';
import { expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { deferred, eventually, httpEvent, lambdaContext, useBackend } from './support.js';

const backend = useBackend('redis');

it('concurrent requests, a plain async before first: only the one whose early timeout fired is cut off', async () => {
  const authA = deferred();
  const runA = deferred();
  const runB = deferred();
  const runs: Record<string, number> = { A: 0, B: 0 };
  const who = (event: { body: string }) => (JSON.parse(event.body) as { who: 'A' | 'B' }).who;
  // A plain async `before` (an authoriser): A waits in it, not yet entered by any steadyfn middleware.
  const auth = { before: async (request: { event: { body: string } }) => (who(request.event) === 'A' && runs.A === 0 ? authA.promise : undefined) };
  const main = middy(
    async (event: { body: string }) => {
      const name = who(event);
      runs[name]! += 1;
      if (runs[name] === 1) await (name === 'A' ? runA.promise : runB.promise);
      return { statusCode: 201, body: name };
    },
    // A (600 s left) is answered by middy 50 ms in; B (6000 s left) long after the test.
    middyPlugin({ timeoutEarlyInMillis: 599_950 }),
  )
    .use(auth)
    .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `cc-${randomUUID().slice(0, 8)}` }));
  const evA = httpEvent({ key: randomUUID(), body: { who: 'A' } });
  const evB = httpEvent({ key: randomUUID(), body: { who: 'B' } });

  const a = main(evA as never, lambdaContext(undefined, 'f', 600_000) as never).catch((error: { name?: string }) => error.name);
  await new Promise((resolve) => setImmediate(resolve));
  // B starts while A still waits in its plain before; B's function is running once it counts.
  const b = main(evB as never, lambdaContext(undefined, 'f', 6_000_000) as never);
  await eventually(() => runs.B === 1);
  authA.resolve();
  expect(await a).toBe('TimeoutError');
  const retryA = await main(evA as never, lambdaContext(undefined, 'f', 6_000_000) as never).catch((error: { code?: string }) => error.code);
  runB.resolve();
  expect(await b).toMatchObject({ statusCode: 201, body: 'B' });
  const retryB = await main(evB as never, lambdaContext(undefined, 'f', 6_000_000) as never).catch((error: { code?: string }) => error.code);
  runA.resolve();
  expect({ runs, retryA, retryB: (retryB as { statusCode?: number })?.statusCode ?? retryB }).toEqual({
    runs: { A: 1, B: 1 },
    retryA: 'IDEMPOTENCY_IN_PROGRESS',
    retryB: 201,
  });
});
