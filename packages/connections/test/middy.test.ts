/**
 * The connections plugin as a middy middleware (`toMiddy`) on the real `@middy/core`, with a
 * real ioredis client on the shared Redis: the client is on ctx (and reused warm), its
 * per-invocation record is logged, and `currentContext()` works in the handler.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { currentContext } from '@steadyfn/handler';
import { steadyContext, steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { connections } from '../src/index.js';
import { redis } from '../src/redis.js';
import { closeAll } from '../src/registry.js';
import { requireService } from '../../../test/services/env.js';

afterAll(closeAll);

const lambdaContext = () => ({ awsRequestId: randomUUID(), functionName: 'cart', getRemainingTimeInMillis: () => 30_000 });
const event = (sku: string) => ({ version: '2.0', rawPath: '/cart', rawQueryString: `sku=${sku}`, headers: {}, requestContext: { http: { method: 'GET', path: '/cart' } } });

describe('connections on middy (Redis)', () => {
  it('hands the handler a real Redis client through ctx, reused across warm invocations, with the per-invocation record logged', async () => {
    await requireService('redis');
    const key = `conn-middy:${randomUUID()}`;
    const lines: Array<Record<string, any>> = [];
    const cache = redis({ name: `cache-${randomUUID().slice(0, 8)}` });
    const main = middy(
      steadyHandler<{ cache: Redis }>(async (_event, context, ctx) => {
        // The same ctx three ways: the third argument, steadyContext(context), currentContext().
        expect(steadyContext(context)).toBe(ctx);
        expect(currentContext()).toBe(ctx);
        const count = await ctx.cache.incr(key);
        return { statusCode: 200, body: String(count) };
      }),
    ).use(toMiddy(connections({ cache }, { closeOnSigterm: false, logReused: true }), { logLevel: 'info', logSink: (l) => void lines.push(JSON.parse(l)) }));
    try {
      await expect(main(event('a'), lambdaContext() as never)).resolves.toEqual({ statusCode: 200, body: '1' });
      await expect(main(event('b'), lambdaContext() as never)).resolves.toEqual({ statusCode: 200, body: '2' });
      const records = lines.filter((l) => l.msg === 'connections');
      expect(records.map((r) => r.clients.cache.state)).toEqual(['new', 'reused']);
      expect(records[0]).toMatchObject({ provider: 'aws', trigger: 'http', fn: 'cart' });
    } finally {
      const client = await cache.get();
      await client.del(key);
    }
  });

  it('a client that cannot connect fails the request before the handler, as a thrown CONNECTION_UNAVAILABLE', async () => {
    let ran = false;
    const down = redis({ name: `down-${randomUUID().slice(0, 8)}`, url: 'redis://127.0.0.1:1', options: { connectTimeout: 300, maxRetriesPerRequest: 0, retryStrategy: () => null } });
    const main = middy(
      steadyHandler(async () => {
        ran = true;
      }),
    ).use(toMiddy(connections({ down }, { closeOnSigterm: false, log: false })));
    await expect(main(event('a'), lambdaContext() as never)).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    expect(ran).toBe(false);
  });
});
