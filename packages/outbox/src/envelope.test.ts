import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fromCloudEvent, toCloudEvent } from './cloudevents.js';
import { envelopeMeta, pickContext } from './context.js';
import { checkDeclarations, parseEnvelope, prepareEvent, serializeEvent, type EventDeclarations } from './envelope.js';

const events = {
  OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int().positive() }), schemaVersion: 2 },
} satisfies EventDeclarations;

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('envelope', () => {
  it('fills id (UUIDv7), occurredAt, schemaVersion and metadata; seq comes with serialisation', () => {
    const e = prepareEvent(events, { type: 'OrderPaid', aggregateId: 'o-1', payload: { amountCents: 5 }, change: { op: 'update', before: { s: 'a' }, after: { s: 'b' } } }, { correlationId: 'c', causationId: 'k', traceparent: TRACE, context: { tenant: 't1' } }, Date.UTC(2025, 0, 2));
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(e.occurredAt).toBe('2025-01-02T00:00:00.000Z');
    const json = serializeEvent(e, 3);
    expect(Object.keys(JSON.parse(json))).toEqual(['id', 'type', 'aggregateType', 'aggregateId', 'seq', 'payload', 'occurredAt', 'schemaVersion', 'correlationId', 'causationId', 'traceparent', 'change', 'context']);
    const parsed = parseEnvelope(json);
    expect(parsed).toMatchObject({ ok: true, event: { seq: 3, schemaVersion: 2, aggregateType: 'order', change: { op: 'update' }, context: { tenant: 't1' } } });
  });

  it('ids are time-ordered', () => {
    const ids = Array.from({ length: 200 }, (_, i) => prepareEvent(events, { type: 'OrderPaid', aggregateId: 'o', payload: { amountCents: 1 } }, {}, 1_700_000_000_000 + i).id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('refuses undeclared types, bad aggregate ids and payloads the schema refuses, naming the field', () => {
    expect(() => prepareEvent(events, { type: 'Nope' as 'OrderPaid', aggregateId: 'o', payload: { amountCents: 1 } }, {})).toThrow(expect.objectContaining({ code: 'OUTBOX_EVENT_INVALID' }));
    expect(() => prepareEvent(events, { type: 'OrderPaid', aggregateId: '', payload: { amountCents: 1 } }, {})).toThrow(/aggregateId/);
    try {
      prepareEvent(events, { type: 'OrderPaid', aggregateId: 'o', payload: { amountCents: -1 } }, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false, issues: [{ field: 'payload.amountCents', expected: expect.stringMatching(/^number >/) }] });
    }
  });

  it('refuses a payload JSON cannot carry, clearly', () => {
    const loose = { Any: { aggregateType: 'x', schema: z.any() } };
    const e = prepareEvent(loose, { type: 'Any', aggregateId: 'a', payload: { n: 10n } }, {});
    expect(() => serializeEvent(e, 1)).toThrow(expect.objectContaining({ code: 'OUTBOX_EVENT_INVALID' }));
  });

  it('checks declarations up front', () => {
    expect(() => checkDeclarations('outbox', { 'bad type': { aggregateType: 'x', schema: z.any() } })).toThrow(/type/);
    expect(() => checkDeclarations('outbox', { T: { aggregateType: 'x y', schema: z.any() } })).toThrow(/aggregateType/);
    expect(() => checkDeclarations('outbox', { T: { aggregateType: 'x', schema: {} as never } })).toThrow(/schema/);
  });

  it('maps to a CloudEvent and back', () => {
    const e = prepareEvent(events, { type: 'OrderPaid', aggregateId: 'o-9', payload: { amountCents: 5 }, related: { customer: { id: 'c' } } }, { correlationId: 'c', traceparent: TRACE });
    const envelope = JSON.parse(serializeEvent(e, 12));
    const ce = toCloudEvent(envelope, { source: '/shop/orders' });
    expect(ce).toMatchObject({ specversion: '1.0', id: e.id, source: '/shop/orders', type: 'OrderPaid', subject: 'o-9', time: e.occurredAt, sequence: '0000000000000012', aggregatetype: 'order', schemaversion: 2, data: { amountCents: 5 } });
    expect(fromCloudEvent(JSON.parse(JSON.stringify(ce)))).toEqual({ ok: true, event: envelope });
  });
});

describe('invocation metadata', () => {
  it('stamps the invocation\'s trace context (ctx.traceparent) on its events', () => {
    const ctx = { requestId: 'r', deliveryId: undefined, traceparent: TRACE, trigger: { kind: 'direct', source: 'x' } };
    expect(envelopeMeta(ctx as never, undefined, undefined).traceparent).toBe(TRACE);
  });

  it('copies only allow-listed primitive fields of the caller context', () => {
    expect(pickContext({ tenant: 't', userId: 'u', token: 'secret', roles: ['a'], nested: { a: 1 } }, ['tenant', 'roles', 'nested'])).toEqual({ tenant: 't' });
    expect(pickContext('x', ['a'])).toBeUndefined();
  });

  it('derives correlation and causation from a consumed event, an HTTP request or a delivery', () => {
    const base = { requestId: 'r-1', deliveryId: 'd-1' };
    const consumed = JSON.parse(serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId: 'o', payload: { amountCents: 1 } }, { correlationId: 'corr' }), 1));
    expect(envelopeMeta({ ...base, trigger: { kind: 'direct', source: 'x' } } as never, consumed, undefined)).toMatchObject({ correlationId: 'corr', causationId: consumed.id });
    const http = { ...base, deliveryId: undefined, trigger: { kind: 'http', source: 'x', request: { headers: { 'x-correlation-id': 'abc' } } } };
    expect(envelopeMeta(http as never, undefined, { allow: ['tenant'], from: () => ({ tenant: 't', password: 'p' }) })).toMatchObject({ correlationId: 'abc', causationId: 'r-1', context: { tenant: 't' } });
    const queue = { ...base, trigger: { kind: 'queue', source: 'sqs', attributes: {} } };
    expect(envelopeMeta(queue as never, undefined, undefined)).toMatchObject({ correlationId: 'd-1', causationId: 'd-1' });
  });
});
