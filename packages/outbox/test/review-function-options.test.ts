/**
 * New-user trial finding: two function-valued options were taken unchecked — `transitions({
 * alsoSet })` and `inbox({ read })`. A value that is not a function (a config object passed
 * where the function belongs, `alsoSet: { paidAt: … }`) was accepted, and the first invocation
 * then failed with an untyped `TypeError` ("… is not a function") — after the inbox had claimed
 * the event, in the inbox's case. Both are now refused when the plugin is made:
 * `ConfigurationError`, code `CONFIG_INVALID`, naming the field and what was expected, like
 * every other option.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { IdempotencyStore } from '@steadyfn/idempotency';
import { inbox, outbox, redisOutbox, transitions } from '../src/index.js';

// Made without a connection (lazyConnect): option checks run before any server is reached.
import { Redis } from 'ioredis';
const client = new Redis({ lazyConnect: true });
const store = redisOutbox({ client });
void outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
afterAll(() => client.disconnect());
const inboxStore = { claim: async () => ({}), completeMany: async () => [] } as unknown as IdempotencyStore;

describe('function-valued options are checked up front', () => {
  it.each([[5], [{ paidAt: 'now' }], ['paidAt']])('transitions({ alsoSet: %j }) is CONFIG_INVALID naming alsoSet', (alsoSet) => {
    expect(() => transitions({ table: { validated: ['paid'], paid: [] }, store, redisKey: (id) => `order:{${id}}`, alsoSet: alsoSet as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'alsoSet', message: expect.stringContaining('a function') }),
    );
  });

  it.each([[5], [{ body: true }], ['body']])('inbox({ read: %j }) is CONFIG_INVALID naming read', (read) => {
    expect(() => inbox({ store: inboxStore, consumer: 'shipping', read: read as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'read', message: expect.stringContaining('a function') }),
    );
  });

  it('functions and undefined pass', () => {
    expect(() => transitions({ table: { validated: ['paid'], paid: [] }, store, redisKey: (id) => `order:{${id}}`, alsoSet: () => ({}) })).not.toThrow();
    expect(() => transitions({ table: { validated: ['paid'], paid: [] }, store, redisKey: (id) => `order:{${id}}`, alsoSet: undefined })).not.toThrow();
    expect(() => inbox({ store: inboxStore, consumer: 'shipping', read: (ctx) => ctx.input })).not.toThrow();
    expect(() => inbox({ store: inboxStore, consumer: 'shipping', read: undefined })).not.toThrow();
  });
});
