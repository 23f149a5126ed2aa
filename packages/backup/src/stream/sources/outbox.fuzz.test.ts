/**
 * Outbox envelopes come from outside (a Redis stream field, an SQS body, an `append()` call):
 * whatever a JSON value or a text holds, turning it into records either works or throws
 * `SourceRecordInvalidError` — never another exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceRecordInvalidError } from '../../errors.js';
import { envelopesToBatch, parseEnvelopeText } from './outbox.js';

const envelopeLike = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer()),
    type: fc.string(),
    aggregateType: fc.oneof(fc.string(), fc.constant(null)),
    aggregateId: fc.string(),
    seq: fc.oneof(fc.integer({ min: -2, max: 1000 }), fc.double(), fc.string()),
    payload: fc.jsonValue(),
    occurredAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
    change: fc.record({ op: fc.constantFrom('insert', 'update', 'delete', 'manual'), after: fc.jsonValue() }, { requiredKeys: ['op'] }),
  },
  { requiredKeys: [] },
);

function typedOrFine(work: () => unknown): void {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(SourceRecordInvalidError);
  }
}

describe('outbox envelopes from outside', () => {
  it('any JSON value or envelope-like object gives records or a SourceRecordInvalidError', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(envelopeLike, fc.jsonValue()), { maxLength: 5 }), (values) => {
        typedOrFine(() => envelopesToBatch(values.map((envelope, i) => ({ envelope, position: String(i) })), undefined, true));
      }),
      { numRuns: 500 },
    );
  });
  it('any text gives a value or a SourceRecordInvalidError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        typedOrFine(() => parseEnvelopeText(text, '1'));
      }),
      { numRuns: 500 },
    );
  });
});
