/**
 * Review finding: a wrong event declaration given to `outbox()` (no schema, a bad type or
 * aggregate type name, `schemaVersion: 0`) threw `EventInvalidError` (`OUTBOX_EVENT_INVALID`,
 * the error of a bad event at run time) instead of the `ConfigurationError` every other
 * factory throws for a bad option, and named the field `type` instead of the declaration.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '@steadyfn/handler';
import { outbox, redisOutbox } from '../src/index.js';

const client = new Redis(process.env.REDIS_URL!, { lazyConnect: true });
afterAll(() => client.disconnect());

function thrownBy(events: unknown): unknown {
  try {
    outbox({ events: events as never, store: redisOutbox({ client }) });
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('outbox(): event declarations are options', () => {
  it.each([
    ['no schema', { OrderPaid: { aggregateType: 'order' } }, 'events.OrderPaid.schema', 'a zod schema'],
    ['a schema that is not zod', { OrderPaid: { aggregateType: 'order', schema: {} } }, 'events.OrderPaid.schema', 'a zod schema'],
    ['a bad aggregate type', { OrderPaid: { aggregateType: 'order line', schema: z.object({}) } }, 'events.OrderPaid.aggregateType', 'an aggregate type name of 1-64 characters of A-Z a-z 0-9 . _ -'],
    ['schemaVersion 0', { OrderPaid: { aggregateType: 'order', schema: z.object({}), schemaVersion: 0 } }, 'events.OrderPaid.schemaVersion', 'an integer ≥ 1'],
    ['a bad type name', { 'Order Paid': { aggregateType: 'order', schema: z.object({}) } }, 'events.Order Paid', 'declared under an event type name of 1-128 characters of A-Z a-z 0-9 . _ : -'],
    ['a declaration that is not an object', { OrderPaid: 'order' }, 'events.OrderPaid', 'a declaration { aggregateType, schema, schemaVersion? }'],
  ])('%s: ConfigurationError naming the declaration', (_name, events, field, expected) => {
    const error = thrownBy(events);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, field, issues: [{ field, expected }] });
    expect((error as Error).message).toMatch(/^outbox\(\): option "events\./);
  });
});
