/**
 * Fuzz: SQS and SNS message attributes. Any map of typed attributes as AWS sends them comes
 * back exactly — text byte for byte, Binary values as the bytes that were base64-encoded, each
 * declared type kept, hostile names (`__proto__`) as own keys — and any other value is either
 * read or refused with a typed MALFORMED_EVENT whose field is under the attributes' path.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzEventParser } from '../../test/support/fuzz.js';
import { isRecord } from '../internal/record.js';
import { snsMessageAttributes, sqsMessageAttributes, type TypedAttributes } from './attributes.js';
import { snsItems } from './sns.js';

const name = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'traceparent'));
const textType = fc.constantFrom('String', 'Number', 'String.Array', 'Number.float', 'String.uuid');
const binaryType = fc.constantFrom('Binary', 'Binary.gif', 'Binary.proto');
const attribute = fc.oneof(
  fc.record({ type: textType, text: fc.string({ unit: 'grapheme', maxLength: 40 }) }).map((a) => ({ ...a, bytes: undefined })),
  fc.record({ type: binaryType, bytes: fc.uint8Array({ maxLength: 64 }) }).map((a) => ({ ...a, text: undefined })),
);
const attributeMap = fc.dictionary(name, attribute, { maxKeys: 8 });
type Attr = { type: string; text: string | undefined; bytes: Uint8Array | undefined };

function expectSame(got: TypedAttributes, sent: Record<string, Attr>): void {
  for (const [key, a] of Object.entries(sent)) {
    expect(got.attributeTypes?.[key]).toBe(a.type);
    if (a.bytes) {
      expect(Object.hasOwn(got.attributes, key)).toBe(false);
      expect(Buffer.from(a.bytes).equals(got.binaryAttributes![key]!)).toBe(true);
    } else {
      expect(Object.hasOwn(got.binaryAttributes ?? {}, key)).toBe(false);
      expect(Object.hasOwn(got.attributes, key)).toBe(true);
      expect(got.attributes[key]).toBe(a.text);
    }
  }
  expect(Object.getPrototypeOf(got.attributes)).toBe(Object.prototype);
  const names = [...Object.keys(got.attributes), ...Object.keys(got.binaryAttributes ?? {})].sort();
  expect(names).toEqual(Object.keys(sent).sort());
}

/** A parsed JSON object with `entries` as own members, `__proto__` included (as JSON.parse makes it). */
const asParsedJson = (entries: Record<string, unknown>): Record<string, unknown> => JSON.parse(JSON.stringify(entries)) as Record<string, unknown>;

describe('message attributes round trip', () => {
  it('SQS: every attribute back exactly, Binary as its bytes', () => {
    fc.assert(
      fc.property(attributeMap, (sent) => {
        const event = asParsedJson(
          Object.fromEntries(
            Object.entries(sent).map(([k, a]) => [
              k,
              a.bytes ? { binaryValue: Buffer.from(a.bytes).toString('base64'), stringListValues: [], binaryListValues: [], dataType: a.type } : { stringValue: a.text, stringListValues: [], binaryListValues: [], dataType: a.type },
            ]),
          ),
        );
        const { attributes, error } = sqsMessageAttributes(event, 'Records.0.messageAttributes');
        expect(error).toBeUndefined();
        expectSame(attributes, sent);
      }),
      { numRuns: 300 },
    );
  });

  it('SNS: every attribute back exactly, Binary as its bytes', () => {
    fc.assert(
      fc.property(attributeMap, (sent) => {
        const event = asParsedJson(Object.fromEntries(Object.entries(sent).map(([k, a]) => [k, { Type: a.type, Value: a.bytes ? Buffer.from(a.bytes).toString('base64') : a.text }])));
        expectSame(snsMessageAttributes(event, 'Records.0.Sns.MessageAttributes'), sent);
      }),
      { numRuns: 300 },
    );
  });
});

describe('message attributes under malformed input', () => {
  const underPath = (field: unknown, path: string) => typeof field === 'string' && (field === path || field.startsWith(`${path}.`));

  it('SQS: any value is read or gives a MALFORMED_EVENT under the attributes path', () => {
    const value = fc.oneof(fc.anything(), fc.dictionary(name, fc.oneof(fc.anything(), fc.record({ dataType: fc.oneof(textType, binaryType, fc.anything()), stringValue: fc.anything(), binaryValue: fc.oneof(fc.base64String(), fc.string()) }, { requiredKeys: [] }))));
    fc.assert(
      fc.property(value, (v) => {
        const { attributes, error } = sqsMessageAttributes(v, 'Records.3.messageAttributes');
        expect(isRecord(attributes.attributes)).toBe(true);
        if (error) {
          expect(error.code).toBe('MALFORMED_EVENT');
          expect(underPath(error.issues?.[0]?.field, 'Records.3.messageAttributes')).toBe(true);
          expect(typeof error.issues?.[0]?.expected).toBe('string');
        }
        for (const bytes of Object.values(attributes.binaryAttributes ?? {})) expect(Buffer.isBuffer(bytes)).toBe(true);
        for (const text of Object.values(attributes.attributes)) expect(typeof text).toBe('string');
      }),
      { numRuns: 400 },
    );
  });

  it('SNS: any value is read or throws a MALFORMED_EVENT under the attributes path', () => {
    const value = fc.oneof(fc.anything(), fc.dictionary(name, fc.oneof(fc.anything(), fc.record({ Type: fc.oneof(textType, binaryType, fc.anything()), Value: fc.oneof(fc.base64String(), fc.string(), fc.anything()) }, { requiredKeys: [] }))));
    fc.assert(
      fc.property(value, (v) => {
        try {
          const got = snsMessageAttributes(v, 'Records.0.Sns.MessageAttributes');
          for (const text of Object.values(got.attributes)) expect(typeof text).toBe('string');
        } catch (thrown) {
          const e = thrown as { code?: unknown; issues?: Array<{ field?: unknown }> };
          expect(e.code, String(thrown)).toBe('MALFORMED_EVENT');
          expect(underPath(e.issues?.[0]?.field, 'Records.0.Sns.MessageAttributes')).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});

// The published-shape SNS event with every attribute data type, mutated anywhere.
const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/published/sns-typed-attributes.json', import.meta.url), 'utf8'));
fuzzEventParser('sns with typed attributes', sample, (doc) => snsItems(isRecord(doc) && Array.isArray(doc.Records) ? doc.Records : [], { body: 'auto' }));
