/**
 * `maxRetriesPerRequest` given by the user (`null`, as BullMQ asks of its connections, or a
 * count ≥ 1) over this package's profile, which keeps `autoResendUnfulfilledCommands: false`. A
 * command written to a socket that then died (a reset after a freeze, a server restart) is not
 * rejected by ioredis when it reconnects: with a count above 0 it flushes nothing on the first
 * close, and without the resend it drops the written commands without settling them
 * (`prevCommandQueue = null`, lib/redis/event_handler.ts). The invocation hung until its deadline
 * (504 `DEADLINE_EXCEEDED`; forever without one), where the profile's `maxRetriesPerRequest: 0`
 * fails it at once. Now such a command is rejected as the connection closes, like a Cluster
 * node's (`ReplyLostError`): a read is repeated once on a rebuilt connection, a write is a
 * retryable 503 `CONNECTION_LOST`, never sent twice. Real Redis (REDIS_URL) behind a fault proxy:
 * the command is written into a silently dead connection, which is then reset.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { redis } from '../src/redis.js';
import { proxiedRedis } from './support/proxied-redis.js';

const rig = proxiedRedis();

async function outcomeOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return await run();
  } catch (err) {
    const { code, retryable } = err as { code?: unknown; retryable?: unknown };
    return { code, retryable };
  }
}

describe('a command written to a connection that then closed, with the user\'s maxRetriesPerRequest', () => {
  for (const maxRetriesPerRequest of [null, 1, 0]) {
    it(`maxRetriesPerRequest ${maxRetriesPerRequest}: a read answers after one repeat, a write is applied at most once or CONNECTION_LOST — not the deadline`, async () => {
      const key = `review-max-retries:${randomUUID()}`;
      await rig.direct.set(key, '5');
      const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, name: `max-retries-${maxRetriesPerRequest}`, options: { maxRetriesPerRequest } });
      const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) =>
        (input as { write?: boolean }).write ? ctx.redis.incr(key) : ctx.redis.get(key),
      );
      const invoke = (write: boolean) => outcomeOf(() => main.invoke({ write }, { deadline: Date.now() + 4_000 }));
      expect(await invoke(false)).toBe('5');

      for (const write of [false, true]) {
        // The command goes out into a connection that no longer answers, which is then reset.
        rig.proxy.blackholeAll();
        const pending = invoke(write);
        await new Promise((resolve) => setTimeout(resolve, 50));
        rig.proxy.resetAll();
        const outcome = await pending;
        const count = Number(await rig.direct.get(key));
        if (!write) expect(outcome, 'read').toBe('5');
        else if (typeof outcome === 'object') expect(outcome, 'write').toEqual({ code: 'CONNECTION_LOST', retryable: true });
        else expect(outcome, 'write').toBe(count);
        expect(count).toBeLessThanOrEqual(6);
      }
      // The next invocation uses a working connection.
      expect(await invoke(false)).toEqual(expect.stringMatching(/^[56]$/));
      await rig.direct.del(key);
    }, 20_000);
  }
});
