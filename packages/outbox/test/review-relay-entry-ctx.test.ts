/**
 * New-user trial finding: `orders.sweep(undefined)` (a schedule handler that forgot to pass
 * `ctx`) threw an untyped `TypeError` ("Cannot read properties of undefined") from deep in the
 * relay. The relay entry points — `sweep`, `flushTargets`, `relayWatchdog`, `redrive` — need
 * the running function's `ctx` (its `signal`, `remainingMs()` and `log`); without it they now
 * fail with `ConfigurationError` (`CONFIG_INVALID`, field `ctx`) naming what was expected,
 * before anything is read or sent.
 */
import { memoryLeaseStore } from '@steadyfn/lease';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../src/index.js';

// Never connected (lazyConnect): the check must come before the store is reached.
const client = new Redis({ lazyConnect: true });
afterAll(() => client.disconnect());
let sends = 0;
const orders = outbox({
  name: 'orders',
  events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } },
  store: redisOutbox({ client }),
  relay: { sender: { fifo: false, send: async () => (sends++, { sent: [], failed: [], batches: 0, bytes: 0, fill: { entries: 0, bytes: 0 }, retries: 0, splits: 0 }) }, lease: memoryLeaseStore(), allowInProcessLease: true },
});

const refusedCtx = expect.objectContaining({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'ctx', message: expect.stringContaining('remainingMs') });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('relay entry points check their ctx argument', () => {
  it.each([[undefined], [null], [{}], [{ signal: new AbortController().signal, log: quiet }], [{ remainingMs: () => 1000, log: quiet }]])('sweep(%o) is CONFIG_INVALID naming ctx', async (ctx) => {
    await expect(orders.sweep(ctx as never)).rejects.toEqual(refusedCtx);
  });

  it('flushTargets, relayWatchdog and redrive refuse a missing ctx the same way', async () => {
    await expect(orders.flushTargets(undefined as never, [])).rejects.toEqual(refusedCtx);
    await expect(orders.relayWatchdog(undefined as never, { outbox: 'orders', keys: [] })).rejects.toEqual(refusedCtx);
    await expect(orders.redrive(undefined as never, { where: 'o-1', aggregate: 'order/o-1', fromSeq: 1, quarantinedAt: 1 })).rejects.toEqual(refusedCtx);
    expect(sends).toBe(0);
    expect(client.status).toBe('wait');
  });
});
