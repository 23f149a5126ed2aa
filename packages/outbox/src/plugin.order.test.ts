/**
 * The outbox among the other plugins, on the real Redis: `use: [connections, idempotency,
 * outbox]` joins the idempotency completion into the outbox's script (the record is completed
 * by no other call); the other order is refused (its record would complete before the write:
 * a failed write would lose the effects); a plugin that runs the function again before the outbox does not leak the
 * failed run's events; the trace context of the invocation is the events'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, type Plugin } from '@steadyfn/handler';
import { connections } from '@steadyfn/connections';
import { redis as redisClient } from '@steadyfn/connections/redis';
import { idempotency, redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { openRedis, scriptedSender, type RedisBackend } from '../test/support.js';
import { outbox } from './plugin.js';
import { redisOutbox } from './stores/redis.js';
import { partitionKeys } from './stores/redis-keys.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ n: z.number() }) } };
const input = z.object({ orderId: z.string() });

/** Counts the idempotency store's own completions (a joined completion is not one). */
function counting(store: IdempotencyStore): IdempotencyStore & { completions: number } {
  const counted = { ...store, completions: 0 } as IdempotencyStore & { completions: number };
  counted.complete = (r, o) => (counted.completions++, store.complete(r, o));
  counted.completeMany = (r, o) => ((counted.completions += r.length), store.completeMany(r, o));
  counted.joinable = (r) => store.joinable?.(r);
  return counted;
}

describe('plugin order, on Redis', () => {
  let backend: RedisBackend;
  const lines: string[] = [];
  beforeAll(async () => {
    backend = await openRedis('redis');
  });
  afterAll(async () => {
    await backend.close();
  });

  const orders = (sender = scriptedSender()) => ({ sender, plugin: outbox({ events, store: redisOutbox({ client: backend.client, prefix: backend.prefix }), relay: { sender, lease: backend.lease } }) });
  const body = async ({ orderId }: { orderId: string }, ctx: { outbox: { call: (...c: never[]) => void; add: (d: never) => unknown }; traceparent: string }) => {
    ctx.outbox.call(...(['INCRBY', `${backend.prefix}n:{${orderId}}`, 1] as never[]));
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: { n: 1 } } as never);
    return { orderId, trace: ctx.traceparent };
  };

  it('[connections, idempotency, outbox]: the completion is in the outbox script; a duplicate replays', async () => {
    const handle = redisClient({ url: process.env.REDIS_URL! });
    const store = counting(redisStore({ client: () => handle.get(), prefix: `${backend.prefix}idem:` }));
    const sender = scriptedSender();
    const box = outbox({ events, store: redisOutbox({ client: () => handle.get(), prefix: backend.prefix }), relay: { sender, lease: backend.lease } });
    const fn = handler({ input, use: [connections({ cache: handle }), idempotency({ store, ttlMs: 60_000 }), box], logSink: (l) => void lines.push(l) }, body as never);
    const first = (await fn.invoke({ orderId: 'j-1' }, { deliveryId: 'd-j-1' })) as { trace: string };
    expect(store.completions).toBe(0);
    const again = await fn.invoke({ orderId: 'j-1' }, { deliveryId: 'd-j-1' });
    expect(again).toEqual(first);
    expect(await backend.client.get(`${backend.prefix}n:{j-1}`)).toBe('1');
    // The event carries the invocation's trace context, and so does its message.
    expect(JSON.parse(sender.accepted[0]!.body).traceparent).toBe(first.trace);
    expect(sender.accepted[0]!.attributes!.traceparent).toBe(first.trace);
    await handle.close();
  });

  it('[outbox, idempotency]: refused before the claim (CONFIG_INVALID, field use) — its record would complete before the outbox writes', async () => {
    const store = counting(redisStore({ client: backend.client, prefix: `${backend.prefix}idem2:` }));
    const { plugin } = orders();
    lines.length = 0;
    let runs = 0;
    const fn = handler({ input, use: [plugin, idempotency({ store, ttlMs: 60_000 })], logSink: (l) => void lines.push(l), logLevel: 'warn' }, (async (i: { orderId: string }, ctx: never) => (runs++, body(i, ctx))) as never);
    await expect(fn.invoke({ orderId: 'j-2' }, { deliveryId: 'd-j-2' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(lines.some((l) => l.includes('"code":"CONFIG_INVALID"') && l.includes('"field":"use"'))).toBe(true);
    expect(runs).toBe(0);
    expect(store.completions).toBe(0);
    expect(await backend.client.exists(partitionKeys(backend.prefix, 'j-2').seq)).toBe(0);
  });

  it('idempotency records on another server (the cluster): the script cannot settle them, so no join; still written once', async () => {
    const other = await openRedis('cluster');
    try {
      const store = counting(redisStore({ client: other.client, prefix: `${other.prefix}idem:` }));
      const { plugin } = orders();
      const fn = handler({ input, use: [idempotency({ store, ttlMs: 60_000 }), plugin], logSink: () => undefined }, body as never);
      const first = await fn.invoke({ orderId: 'j-4' }, { deliveryId: 'd-j-4' });
      expect(store.completions).toBe(1);
      expect(await fn.invoke({ orderId: 'j-4' }, { deliveryId: 'd-j-4' })).toEqual(first);
      expect(await backend.client.get(`${backend.prefix}n:{j-4}`)).toBe('1');
    } finally {
      await other.close();
    }
  });

  it('a plugin before the outbox that runs the function again: the failed run\'s events do not leak', async () => {
    const { sender, plugin } = orders();
    let runs = 0;
    const retryOnce: Plugin = {
      name: 'retry-once',
      async wrap(_ctx, next) {
        try {
          return await next();
        } catch {
          return next();
        }
      },
    };
    const fn = handler({ input, use: [retryOnce, plugin], logSink: () => undefined }, async ({ orderId }, ctx) => {
      runs++;
      ctx.outbox.call('INCRBY', `${backend.prefix}n:{${orderId}}`, runs);
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: { n: runs } });
      if (runs === 1) throw new Error('transient');
      return runs;
    });
    expect(await fn.invoke({ orderId: 'j-3' })).toBe(2);
    expect(await backend.client.get(`${backend.prefix}n:{j-3}`)).toBe('2');
    expect(sender.accepted.map((m) => JSON.parse(m.body).payload.n)).toEqual([2]);
  });
});
