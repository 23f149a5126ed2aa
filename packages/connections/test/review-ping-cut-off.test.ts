/**
 * A silently dead socket (a NAT mapping or firewall state gone while the instance was frozen:
 * bytes vanish, nothing answers, TCP keepalive would take hours) on a function whose deadline
 * leaves less than `pingTimeoutMs` (default 1 000 ms) — a 1 s Lambda timeout with the default
 * 500 ms margin. The command on the dead socket is cut off by the deadline and the client
 * distrusted; each later thaw check (PING) is cut off by the deadline too, and a cut-off check
 * gave no verdict, so the dead client was kept for good and every invocation failed with
 * DEADLINE_EXCEEDED. A ping's time unanswered now counts across invocations: once it reaches
 * `pingTimeoutMs`, the client is rebuilt. Real Redis (REDIS_URL) behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';
import { connections, connectionsRecord } from '../src/index.js';
import { redis } from '../src/redis.js';
import { proxiedRedis } from './support/proxied-redis.js';

const rig = proxiedRedis();

describe('a silently dead socket under deadlines shorter than pingTimeoutMs', () => {
  it('is rebuilt after a few invocations, each answered within its deadline, instead of failing every invocation', async () => {
    const key = `review-ping-cut:${randomUUID()}`;
    await rig.direct.set(key, 'v');
    const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, name: 'ping-cut' });
    const main = handler(
      { use: [connections({ redis: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined },
      async (_input, ctx: Context<{ redis: Redis }>) => ({ value: await ctx.redis.get(key), state: connectionsRecord(ctx)?.redis?.state }),
    );
    expect(await main.invoke({}, { deadline: Date.now() + 5_000 })).toEqual({ value: 'v', state: 'new' });
    const accepted = rig.proxy.accepted;
    rig.proxy.blackholeAll();
    const outcomes: unknown[] = [];
    for (let i = 0; i < 8; i++) {
      // The next invocation arrives from I/O, as on a platform (not in the same burst of microtasks).
      await new Promise((resolve) => setImmediate(resolve));
      const started = Date.now();
      let outcome: unknown;
      try {
        outcome = await main.invoke({}, { deadline: started + 600 });
      } catch (err) {
        outcome = (err as { code?: unknown }).code;
      }
      // Every answer bounded by its own deadline (the handler answers at 500 ms; slack for a loaded
      // machine — before the fix nothing hung either, every invocation failed).
      expect(Date.now() - started).toBeLessThan(2_000);
      outcomes.push(outcome);
      if (typeof outcome === 'object') break;
    }
    // The first ones fail typed (the command on the dead socket, the checks cut off), then a rebuilt client answers.
    expect(outcomes.slice(0, -1).every((o) => o === 'DEADLINE_EXCEEDED')).toBe(true);
    // Only a new connection can answer (every old one is blackholed). Its label is `reconnected`,
    // or `reused` when a deadline cut off the invocation that rebuilt it and the next one found it ready.
    expect(outcomes.at(-1)).toMatchObject({ value: 'v', state: expect.stringMatching(/^(reconnected|reused)$/) });
    // Measured: 4 (the command, a check cut off, a check that fails once 1 000 ms have passed
    // unanswered, the rebuilt client); one more each time a loaded machine lets a deadline cut a connect.
    expect(outcomes.length).toBeLessThanOrEqual(6);
    // One failed check; its rebuild (and more only when a deadline cut a connect) went through the proxy.
    expect(handle.stats.pingFailures).toBe(1);
    expect(rig.proxy.accepted - accepted).toBeGreaterThanOrEqual(1);
    expect(rig.proxy.accepted - accepted).toBeLessThanOrEqual(3);
  });
});
