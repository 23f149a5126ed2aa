/**
 * Fuzz: mutated msk-batch.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw; any
 * headers come back exactly, as text or as bytes.
 */
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamTrigger } from '../types.js';
import { isRecord } from '../internal/record.js';
import { lambdaKafkaItems } from './kafka.js';
import { fuzzEventParser } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/msk-batch.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => lambdaKafkaItems(isRecord(doc) ? doc : {}, { body: 'auto' });

fuzzEventParser('kafka', sample, parse);

describe('Kafka headers', () => {
  it('every header back exactly: each value in order in headers; UTF-8 names as text (repeats joined), any other as its last value’s bytes', () => {
    const header = fc.record({ name: fc.constantFrom('a', 'b', 'traceparent', '__proto__'), bytes: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.string({ maxLength: 8 }).map((t) => new Uint8Array(Buffer.from(t)))) });
    fc.assert(
      fc.property(fc.array(header, { maxLength: 6 }), fc.boolean(), (headers, signed) => {
        // Lambda sends Java's bytes; they may come signed (0xff as -1).
        const asSent = headers.map(({ name, bytes }) => JSON.parse(JSON.stringify({ [name]: Array.from(bytes, (b) => (signed && b > 127 ? b - 256 : b)) })) as Record<string, number[]>);
        const event = { eventSource: 'aws:kafka', records: { 't-0': [{ topic: 't', partition: 0, offset: 1, timestamp: 0, value: null, headers: asSent }] } };
        const trigger = lambdaKafkaItems(event, { body: 'auto' })[0]!.trigger as StreamTrigger;
        if (headers.length === 0) expect(trigger).not.toHaveProperty('headers');
        else expect(trigger.headers).toEqual(headers.map(({ name, bytes }) => ({ key: name, value: Buffer.from(bytes) })));
        const byName = new Map<string, Buffer[]>();
        for (const { name, bytes } of headers) byName.set(name, [...(byName.get(name) ?? []), Buffer.from(bytes)]);
        for (const [name, values] of byName) {
          if (values.every((v) => isUtf8(v))) expect(trigger.attributes[name]).toBe(values.map((v) => v.toString('utf8')).join(', '));
          else {
            expect(Object.hasOwn(trigger.attributes, name)).toBe(false);
            expect(trigger.binaryAttributes![name]!.equals(values.at(-1)!)).toBe(true);
          }
        }
        expect(Object.keys(trigger.attributes).length + Object.keys(trigger.binaryAttributes ?? {}).length).toBe(byName.size);
      }),
      { numRuns: 300 },
    );
  });
});
