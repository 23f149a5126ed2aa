/**
 * A `ctx.redis` write issued after the invocation's answer bound (deadline − deadlineMarginMs)
 * has passed, on the real Redis (REDIS_URL): whatever the function did before — read ctx.signal
 * or not, sent a command or not — it is not sent (README "Deadlines": a command is not sent once
 * the signal has aborted, and the signal aborts at that bound). The bound passes while the
 * function computes synchronously (the event loop is busy: the deadline watch cannot fire), the
 * way a CPU-heavy step overruns; the INCR's counter says whether it reached the server.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redis } from '../src/redis.js';

let direct: Redis;
beforeAll(() => {
  direct = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379');
});
afterAll(async () => {
  await direct.quit();
});
afterEach(async () => {
  await closeAll();
});

/** Computes until `at` (epoch ms) has passed, without yielding to the event loop. */
function computeUntil(at: number): void {
  while (Date.now() <= at) {
    // busy
  }
}

type Before = 'nothing' | 'read ctx.signal' | 'a command' | 'a command and ctx.signal';

describe('ctx.redis after the answer bound passed during synchronous work', () => {
  it.each<Before>(['nothing', 'read ctx.signal', 'a command', 'a command and ctx.signal'])('before it, the function did %s: the INCR is not sent, DEADLINE_EXCEEDED', async (before) => {
    const handle = redis({ url: process.env.REDIS_URL, name: `late-${before.replaceAll(' ', '-')}` });
    const key = `review-late:${randomUUID()}`;
    const margin = 100;
    const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], deadlineMarginMs: margin, logSink: () => undefined }, async (input, ctx: Context<{ redis: Redis }>) => {
      if (!(input as { late?: boolean }).late) return ctx.redis.get(key);
      if (before.includes('command')) await ctx.redis.get(key);
      if (before.includes('signal')) void ctx.signal.aborted;
      computeUntil(ctx.deadline - margin);
      return ctx.redis.incr(key);
    });
    // Warm: the client is connected, so the late command would go out at once.
    await main.invoke({}, { deadline: Date.now() + 10_000 });
    await direct.del(key);
    let code: unknown;
    try {
      await main.invoke({ late: true }, { deadline: Date.now() + 400 });
    } catch (err) {
      code = (err as { code?: unknown }).code;
    }
    expect(code).toBe('DEADLINE_EXCEEDED');
    expect(await direct.get(key)).toBeNull();
  });
});

describe('a command blocked in the server, cut off at the bound', () => {
  it('answers DEADLINE_EXCEEDED, and its late failure when the client is closed is no unhandled rejection (which ends a Node process)', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const handle = redis({ url: process.env.REDIS_URL, name: 'blocked-cut-off' });
      const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, (_input, ctx: Context<{ redis: Redis }>) =>
        ctx.redis.blpop(`review-blocked:${randomUUID()}`, 0),
      );
      await expect(main.invoke({}, { deadline: Date.now() + 400 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
      // The client is closed (as a repair or an instance shutdown does): the BLPOP now fails too.
      await closeAll();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
