/**
 * redis/ioredis#1630 ("commandTimeout should not be enabled for blocking commands")
 * https://github.com/redis/ioredis/issues/1630
 *
 * ioredis' `commandTimeout` is one deadline for every command, so a `BLPOP key 5` on a client
 * with `commandTimeout: 500` failed with "Command timed out" after 500 ms although the server
 * was still, rightly, waiting for an element; the maintainers' advice is to bound a blocking
 * wait by the command's own timeout argument, on a client without `commandTimeout`.
 *
 * steadyfn bounds `ctx.redis` commands by the invocation's deadline, not by a blanket
 * per-command timeout, and a cut-off of a blocked command does not poison the shared client.
 * Replayed on the real Redis through `connections({ redis })`: a `BLPOP` waiting 0.5 s returns
 * the element pushed while it waits, another times out with `null` (not an error), a `GET`
 * right after answers; a `BLPOP key 0` (no timeout of its own) is cut off at the invocation's
 * deadline with `DEADLINE_EXCEEDED`, and the next invocation's commands answer.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { handler, type Context } from '../../packages/handler/src/index.js';
import { closeAll, connections } from '../../packages/connections/src/index.js';
import { redis } from '../../packages/connections/src/redis.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../services/env.js';

type In = { step: 'wait' | 'forever' | 'get' };

describe('ioredis#1630: a blocking command waits for its own timeout, bounded only by the deadline', () => {
  let direct: Redis;
  beforeAll(async () => {
    await requireService('redis');
    direct = new Redis(process.env.REDIS_URL!);
  });
  afterEach(async () => {
    await closeAll();
  });
  afterAll(async () => {
    await direct?.quit();
  });

  const make = (key: string) =>
    handler({ use: [connections({ redis: redis({ url: process.env.REDIS_URL, name: `blpop-${randomUUID()}` }) }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, async (raw, ctx: Context<{ redis: Redis }>) => {
      const input = raw as In;
      if (input.step === 'wait') return ctx.redis.blpop(`${key}:jobs`, 0.5);
      if (input.step === 'forever') return ctx.redis.blpop(`${key}:never`, 0);
      return ctx.redis.get(`${key}:status`);
    });

  it('BLPOP with its own timeout: the element pushed while it waits, then null at its timeout; the client answers after', async () => {
    const key = `replay-blpop:${randomUUID()}`;
    const main = make(key);
    await direct.set(`${key}:status`, 'ok');
    expect(await main.invoke({ step: 'get' }, { deadline: Date.now() + 10_000 })).toBe('ok');
    const waiting = main.invoke({ step: 'wait' }, { deadline: Date.now() + 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await direct.rpush(`${key}:jobs`, 'job-1');
    expect(await waiting).toEqual([`${key}:jobs`, 'job-1']);
    expect(await main.invoke({ step: 'wait' }, { deadline: Date.now() + 10_000 })).toBeNull();
    expect(await main.invoke({ step: 'get' }, { deadline: Date.now() + 10_000 })).toBe('ok');
    await direct.del(`${key}:status`);
  });

  it('BLPOP with no timeout of its own: cut off at the deadline (DEADLINE_EXCEEDED); the next invocation answers', async () => {
    const key = `replay-blpop:${randomUUID()}`;
    const main = make(key);
    await direct.set(`${key}:status`, 'ok');
    expect(await main.invoke({ step: 'get' }, { deadline: Date.now() + 10_000 })).toBe('ok');
    await expect(main.invoke({ step: 'forever' }, { deadline: Date.now() + 400 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(await main.invoke({ step: 'get' }, { deadline: Date.now() + 10_000 })).toBe('ok');
    await direct.del(`${key}:status`);
  });
});
