/**
 * Review finding (fresh-eyes review, obx): `toCloudEvent` put the envelope's `change`,
 * `related` and `context` objects as they are into the extension attributes `outboxchange`,
 * `outboxrelated` and `outboxcontext`. CloudEvents 1.0.2 allows a context attribute only the
 * types of its type system — Boolean, Integer (32-bit), String, Binary, URI, URI-reference,
 * Timestamp (spec.md, "Type System"; JSON format, "Type System Mapping") — no object, so a
 * conformant SDK refuses such an event: the Go SDK's `types.Validate` (cloudevents/sdk-go,
 * v2/types/value.go) answers "invalid CloudEvents value" for a map. The three are now JSON
 * text in a String attribute, and `fromCloudEvent` reads them back (and still reads the
 * object form older versions wrote). An empty `source` (a REQUIRED non-empty URI-reference)
 * is refused instead of producing an event no consumer accepts.
 */
import { fromCloudEvent, toCloudEvent, type EventEnvelope } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';

const envelope: EventEnvelope = {
  id: '01936f1e-4a3b-7c2d-8e9f-0a1b2c3d4e5f',
  type: 'OrderPaid',
  aggregateType: 'order',
  aggregateId: 'o-42',
  seq: 3,
  payload: { amountCents: 500 },
  occurredAt: '2026-12-02T08:00:00.000Z',
  schemaVersion: 2,
  correlationId: 'c-1',
  causationId: 'k-1',
  change: { op: 'update', before: { status: 'validated' }, after: { status: 'paid' } },
  related: { customer: { id: 'c-7', tier: 'gold' } },
  context: { tenantId: 't-1' },
};

/** A value of the CloudEvents 1.0.2 type system as the JSON format carries it. */
function inTypeSystem(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'boolean') return true;
  return typeof value === 'number' && Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;
}

describe('toCloudEvent', () => {
  it('gives every context attribute a CloudEvents type; fromCloudEvent reads it back', () => {
    const ce = toCloudEvent(envelope, { source: '/shop/orders' });
    const { data: _data, ...attributes } = ce;
    for (const [name, value] of Object.entries(attributes)) expect({ name, ok: inTypeSystem(value) }).toEqual({ name, ok: true });
    expect(JSON.parse(ce.outboxchange as string)).toEqual(envelope.change);
    expect(fromCloudEvent(JSON.parse(JSON.stringify(ce)))).toEqual({ ok: true, event: envelope });
  });

  it('reads the object form older versions wrote', () => {
    const old = { ...toCloudEvent(envelope, { source: '/shop/orders' }), outboxchange: envelope.change, outboxrelated: envelope.related, outboxcontext: envelope.context };
    expect(fromCloudEvent(old)).toEqual({ ok: true, event: envelope });
  });

  it('refuses an extension holding JSON text that is not an object, and an empty source', () => {
    const ce = toCloudEvent(envelope, { source: '/shop/orders' });
    expect(fromCloudEvent({ ...ce, outboxrelated: 'not json' })).toMatchObject({ ok: false });
    expect(fromCloudEvent({ ...ce, outboxrelated: '[1]' })).toMatchObject({ ok: false });
    expect(() => toCloudEvent(envelope, { source: '' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'source' }));
  });
});
