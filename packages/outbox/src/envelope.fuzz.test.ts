import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromCloudEvent, toCloudEvent } from './cloudevents.js';
import { parseEnvelope, prepareEvent, serializeEvent } from './envelope.js';

const anyPayload = { Any: { aggregateType: 'thing', schema: { safeParse: (v: unknown) => ({ success: true as const, data: v }) } } };

describe('parseEnvelope (fuzz)', () => {
  it('never throws on any input, and accepts only well-formed envelopes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue(), fc.anything()), (value) => {
        const parsed = parseEnvelope(value);
        if (parsed.ok) {
          expect(typeof parsed.event.id).toBe('string');
          expect(Number.isSafeInteger(parsed.event.seq)).toBe(true);
        } else expect(typeof parsed.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every serialisable event through JSON and CloudEvents', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), fc.jsonValue(), fc.integer({ min: 1, max: 2 ** 40 }), (aggregateId, payload, seq) => {
        const event = prepareEvent(anyPayload, { type: 'Any', aggregateId, payload }, { correlationId: 'c' });
        const json = serializeEvent(event, seq);
        const parsed = parseEnvelope(json);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.event).toEqual(JSON.parse(json));
        expect(fromCloudEvent(JSON.parse(JSON.stringify(toCloudEvent(parsed.event, { source: '/s' }))))).toEqual({ ok: true, event: parsed.event });
      }),
      { numRuns: 500 },
    );
  });
});
