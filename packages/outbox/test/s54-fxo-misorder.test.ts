/**
 * s54-fxo (review rvx): the outbox listed BEFORE the inbox or idempotency plugin. Their `after`
 * runs first (reverse order), so they completed the event or record before the outbox wrote; a
 * failed write (Redis closing the connection under the script) then lost the effect for good —
 * the redelivery was a duplicate, the retry replayed `{ paid: true }`, nothing was ever written.
 * The misorder is now refused (`CONFIG_INVALID`, field `use`) before any claim, and, as a second
 * guard, neither plugin completes while a writer's effects are still pending (`effectsPending`).
 * Real Redis.
 */
import { randomUUID } from 'node:crypto';
import { handler, SteadyError, type Plugin } from '@steadyfn/handler';
import { effectsWritten, markEffectsPending } from '@steadyfn/handler/internal';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { outbox, redisOutbox } from '../src/index.js';
import { lambdaContext, sqsRecord, useRedis } from './support.js';

const paidEvents = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const shipped = { OrderShipped: { aggregateType: 'order', schema: z.object({}) } };
const codeOf = (e: unknown): unknown => (e as { code?: unknown }).code;

/** The client, its scripts failing as a connection closed under them while `down`. */
function closing<T extends object>(client: T): T & { down: boolean } {
  const state = { down: true };
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'down') return state.down;
      const value = Reflect.get(target, prop, receiver);
      if ((prop === 'evalsha' || prop === 'eval') && typeof value === 'function') {
        return (...args: unknown[]) => (state.down ? Promise.reject(new Error('Connection is closed.')) : value.apply(target, args));
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(_target, prop, value) {
      if (prop !== 'down') return false;
      state.down = value as boolean;
      return true;
    },
  }) as T & { down: boolean };
}

/** A writer that stages the function's effects and writes them in its `after`, failing while `down`. */
function writer(): Plugin & { down: boolean; writes: number } {
  const plugin = {
    name: 'writer',
    down: true,
    writes: 0,
    before: (ctx: object) => markEffectsPending(ctx),
    after(ctx: object) {
      if (plugin.down) throw new SteadyError('WRITE_FAILED', 'store unavailable', { status: 503, retryable: true });
      plugin.writes++;
      effectsWritten(ctx);
      return undefined;
    },
  };
  return plugin;
}

describe('the outbox listed before the inbox or idempotency plugin', () => {
  const backend = useRedis('redis');
  // Each test's records under a prefix of its own: `recordsLeft` counts only that test's.
  const run = randomUUID().slice(0, 8);
  const idem = (test = run) => redisStore({ client: backend.client, prefix: `${backend.prefix}idem-${test}:` });
  const countOf = (id: string) => backend.client.hget(`${backend.prefix}shipments:{${id}}`, 'count');
  const recordsLeft = async (test: string) => (await backend.client.keys(`${backend.prefix}idem-${test}:*`)).length;

  it('[outbox, inbox]: refused before the claim (CONFIG_INVALID, field use); the function never runs', async () => {
    const client = closing(backend.client);
    const test = randomUUID().slice(0, 8);
    let runs = 0;
    const lines: string[] = [];
    const ship = handler(
      { name: 'ship', logSink: (l) => void lines.push(l), use: [outbox({ events: shipped, store: redisOutbox({ client, prefix: backend.prefix }) }), inbox({ store: idem(test), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 })] },
      async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${ctx.inbox.event.aggregateId}}`, 'count', 1);
      },
    );
    const event = prepareEvent(paidEvents, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const body = serializeEvent(event, 1);
    const result = (await ship.aws({ Records: [sqsRecord(body, { attempt: 1 })] }, lambdaContext())) as { batchItemFailures: unknown[] };
    // Terminal: the message is not acknowledged as handled.
    expect(result.batchItemFailures).toHaveLength(1);
    expect(lines.some((l) => l.includes('"code":"CONFIG_INVALID"') && l.includes('"field":"use"'))).toBe(true);
    expect(runs).toBe(0);
    expect(await recordsLeft(test)).toBe(0);
  });

  it('[outbox, idempotency]: refused before the claim (CONFIG_INVALID, field use); the function never runs', async () => {
    const client = closing(backend.client);
    const test = randomUUID().slice(0, 8);
    let runs = 0;
    const id = `o-${randomUUID()}`;
    const lines: string[] = [];
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: (l) => void lines.push(l), use: [outbox({ events: shipped, store: redisOutbox({ client, prefix: backend.prefix }) }), idempotency({ store: idem(test), ttlMs: 3_600_000, localCache: false })] },
      async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${id}}`, 'count', 1);
        return { paid: true };
      },
    );
    const failure = await pay.invoke({}, { deliveryId: randomUUID(), requestId: randomUUID() }).then(() => undefined, codeOf);
    expect(failure).toBe('CONFIG_INVALID');
    expect(lines.some((l) => l.includes('"code":"CONFIG_INVALID"') && l.includes('"field":"use"'))).toBe(true);
    expect(runs).toBe(0);
    expect(await recordsLeft(test)).toBe(0);
    expect(await countOf(id)).toBeNull();
  });

  it('second guard — idempotency: a writer listed before it, not yet written when its after runs: released, not completed', async () => {
    const w = writer();
    let runs = 0;
    const pay = handler({ name: `pay-${randomUUID()}`, logSink: () => undefined, use: [w, idempotency({ store: idem(), ttlMs: 3_600_000, localCache: false })] }, async () => {
      runs++;
      return { paid: true };
    });
    const deliveryId = randomUUID();
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).then(() => undefined, codeOf)).toBe('WRITE_FAILED');
    w.down = false;
    // Released: the retry runs the function and its writer writes (a completed record would replay with nothing written).
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(runs).toBe(2);
    expect(w.writes).toBe(1);
  });

  it('second guard — inbox: a writer listed before it, not yet written when its after runs: released, the redelivery runs', async () => {
    const w = writer();
    let runs = 0;
    const ship = handler({ name: 'ship', logSink: () => undefined, use: [w, inbox({ store: idem(), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 })] }, async () => {
      runs++;
    });
    const event = prepareEvent(paidEvents, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const body = serializeEvent(event, 1);
    const deliver = async (attempt: number) => (await ship.aws({ Records: [sqsRecord(body, { attempt })] }, lambdaContext())) as { batchItemFailures: unknown[] };
    expect((await deliver(1)).batchItemFailures).toHaveLength(1);
    w.down = false;
    // Released: the redelivery runs the function and its writer writes (a completed event would be a duplicate, nothing written).
    expect((await deliver(2)).batchItemFailures).toEqual([]);
    expect(runs).toBe(2);
    expect(w.writes).toBe(1);
  });
});
