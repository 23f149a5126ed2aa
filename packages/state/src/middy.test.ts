/**
 * The state plugin as a middy middleware (`toMiddy`) on the real `@middy/core`: state loaded
 * from the shared Redis before the handler, validated, typed on ctx, and served from memory on
 * the next (warm) invocation.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requireService } from '../../../test/services/env.js';
import { defineState, redisHash, state } from './index.js';

const key = `state-middy:${randomUUID()}`;
let client: Redis;
beforeAll(async () => {
  await requireService('redis');
  client = new Redis(process.env.REDIS_URL!);
  await client.hset(key, { maxItems: '5', version: '1' });
});
afterAll(async () => {
  await client.del(key);
  client.disconnect();
});

const lambdaContext = () => ({ awsRequestId: randomUUID(), functionName: 'checkout', getRemainingTimeInMillis: () => 30_000 });
const event = { version: '2.0', rawPath: '/checkout', rawQueryString: '', headers: {}, requestContext: { http: { method: 'GET', path: '/checkout' } } };

describe('state on middy (Redis)', () => {
  it('loads the state before the handler and serves it warm from memory', async () => {
    let loads = 0;
    const flags = redisHash({ client: () => (loads++, client), key, versionField: 'version' });
    const appState = defineState({ sources: { flags }, schema: z.object({ flags: z.object({ maxItems: z.coerce.number().int() }) }), maxAge: 60_000 });
    const plugin = state(appState);
    const main = middy(
      steadyHandler<{ state: { flags: { maxItems: number } } }>(async (_event, _context, ctx) => ({ statusCode: 200, body: String(ctx.state.flags.maxItems) })),
    ).use(toMiddy(plugin));
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 200, body: '5' });
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 200, body: '5' });
    expect(loads).toBe(1);
  });

  it('state that fails validation fails the request before the handler, thrown to middy', async () => {
    await client.hset(`${key}:bad`, { maxItems: 'many' });
    let ran = false;
    const bad = defineState({ sources: { flags: redisHash({ client, key: `${key}:bad` }) }, schema: z.object({ flags: z.object({ maxItems: z.coerce.number().int() }) }) });
    const main = middy(
      steadyHandler(async () => {
        ran = true;
      }),
    ).use(toMiddy(state(bad)));
    try {
      await expect(main(event, lambdaContext() as never)).rejects.toMatchObject({ name: expect.stringMatching(/State/) });
      expect(ran).toBe(false);
    } finally {
      await client.del(`${key}:bad`);
    }
  });
});
