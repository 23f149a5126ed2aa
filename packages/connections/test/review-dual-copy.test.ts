/**
 * A program holding two copies of steadyfn (ESM `import` of the handler, CommonJS `require` of
 * connections, which then requires the handler's CJS build): `ctx.redis` commands of the CJS
 * copy race the ESM invocation's deadline through its `ctx.signal` (the CJS copy cannot read the
 * ESM ctx's private abort state), on the real Redis (REDIS_URL). A command blocked in the server
 * is cut off at the bound with DEADLINE_EXCEEDED; one issued after the bound passed during
 * synchronous work is not sent.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';

const require = createRequire(import.meta.url);
// The packages' CommonJS builds (dist), beside the ESM source vitest imports.
const cjsConnections = require('@steadyfn/connections') as typeof import('../src/index.js');
const cjsRedis = require('@steadyfn/connections/redis') as typeof import('../src/redis.js');

let direct: Redis;
beforeAll(() => {
  direct = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379');
});
afterAll(async () => {
  await cjsConnections.closeAll();
  await direct.quit();
});

describe('ESM handler, CommonJS connections', () => {
  it('really two copies: the CJS handler build is another module than the ESM one', async () => {
    const esm = await import('@steadyfn/handler');
    const cjs = require('@steadyfn/handler') as typeof esm;
    expect(cjs.handler).not.toBe(esm.handler);
  });

  it('a warm command answers; a BLPOP blocked in the server is cut off at the bound (DEADLINE_EXCEEDED); a write after the bound passed in synchronous work is not sent', async () => {
    const handle = cjsRedis.redis({ url: process.env.REDIS_URL, name: `dual-${randomUUID()}` });
    const key = `review-dual:${randomUUID()}`;
    const margin = 100;
    const main = handler(
      { use: [cjsConnections.connections({ redis: handle }, { closeOnSigterm: false })], deadlineMarginMs: margin, logSink: () => undefined },
      async (input, ctx: Context<{ redis: Redis }>) => {
        const step = (input as { step: string }).step;
        if (step === 'warm') return ctx.redis.incr(`${key}:warm`);
        if (step === 'blocked') return ctx.redis.blpop(`${key}:list`, 0);
        await ctx.redis.get(key);
        while (Date.now() <= ctx.deadline - margin) {
          // computing past the bound
        }
        return ctx.redis.incr(key);
      },
    );
    expect(await main.invoke({ step: 'warm' }, { deadline: Date.now() + 10_000 })).toBe(1);
    await expect(main.invoke({ step: 'blocked' }, { deadline: Date.now() + 400 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await expect(main.invoke({ step: 'late' }, { deadline: Date.now() + 400 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(await direct.get(key)).toBeNull();
    // The client cut off while blocked was checked and replaced or kept: the next invocation answers.
    expect(await main.invoke({ step: 'warm' }, { deadline: Date.now() + 10_000 })).toBe(2);
  });
});
