/**
 * Fuzz: SQS messages whose body is, or looks like, an SNS notification envelope. Detection is
 * strict — a body is read as an envelope exactly when it is JSON with `Type: 'Notification'` and
 * every member SNS always sends as a string — and a detected envelope gives the Message, the
 * SNS identity and attributes exactly, or a typed MALFORMED_EVENT for that message; nothing
 * else ever throws. The SQS record itself is fuzzed with the published sample's shape.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectItemsOrMalformed, expectMalformed, fuzzEventParser, mutation, mutate } from '../../test/support/fuzz.js';
import { isRecord } from '../internal/record.js';
import type { QueueTrigger } from '../types.js';
import { malformed } from './item.js';
import { isSnsEnvelope, snsEnvelopeInBody } from './sns-envelope.js';
import { sqsMessageItem } from './sqs.js';

type Json = Record<string, any>;
const sample = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/published/sqs-sns-envelope.json', import.meta.url), 'utf8')) as Json;
const envelope = JSON.parse(sample.Records[0].body as string) as Json;
const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL', 'UnsubscribeURL'];

/** Every SQS record of `doc` as the SQS adapter reads it (a record without a messageId fails the batch). */
function parse(doc: unknown, body: 'auto' | 'text' = 'auto') {
  const records: unknown[] = isRecord(doc) && Array.isArray(doc.Records) ? Array.from(doc.Records) : [];
  return records.map((record: unknown, index: number) => {
    if (!isRecord(record) || typeof record.messageId !== 'string' || record.messageId === '') throw malformed('no messageId', `Records.${index}.messageId`, 'string');
    return sqsMessageItem(record, record.messageId, { index, size: records.length }, { body });
  });
}

/** One SQS record of the sample whose body is `body`. */
const recordWith = (body: unknown): Json => ({ ...structuredClone(sample.Records[0]), body });

const strictlyAnEnvelope = (value: unknown): boolean => isRecord(value) && value.Type === 'Notification' && REQUIRED.every((m) => typeof value[m] === 'string');

fuzzEventParser('sqs (SNS envelopes)', sample, (doc) => parse(doc));

describe('SNS envelope detection', () => {
  it('a mutated envelope is read as one exactly when every required member is still a string; it runs or fails alone with MALFORMED_EVENT', () => {
    fc.assert(
      fc.property(fc.array(mutation(envelope), { minLength: 1, maxLength: 2 }), (changes) => {
        const doc = changes.reduce<unknown>((d, m) => mutate(d, m.path, m.replacement, m.remove), envelope);
        const body = JSON.stringify(doc) ?? 'null';
        expect(snsEnvelopeInBody(body) !== undefined).toBe(strictlyAnEnvelope(doc));
        const [item] = parse({ Records: [recordWith(body)] });
        const trigger = item!.trigger as QueueTrigger;
        if (!strictlyAnEnvelope(doc)) {
          expect(trigger).not.toHaveProperty('sns');
          expect(item!.deliveryId).toBe(sample.Records[0].messageId);
        } else if ((doc as Json).MessageId !== '') expect(item!.deliveryId).toBe((doc as Json).MessageId);
        expectItemsOrMalformed(() => [item!]);
      }),
      { numRuns: 400 },
    );
  });

  it('a user body with some of the members (Type: Notification included) is never taken for an envelope', () => {
    const member = fc.constantFrom('Type', ...REQUIRED, 'Subject', 'MessageAttributes', 'orderId');
    const value = fc.oneof(fc.constant('Notification'), fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }));
    fc.assert(
      fc.property(fc.dictionary(member, value, { maxKeys: 10 }), (doc) => {
        const body = JSON.stringify(doc);
        expect(isSnsEnvelope(JSON.parse(body))).toBe(strictlyAnEnvelope(doc));
        const [item] = parse({ Records: [recordWith(body)] });
        if (!strictlyAnEnvelope(doc)) {
          expect(item!.trigger).not.toHaveProperty('sns');
          // Not an envelope: the body is the input, as it would be without SNS in the picture.
          expect(item!.payload()).toEqual(JSON.parse(body));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a well-formed envelope gives back its Message byte for byte, its identity and its attributes', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const attrs = fc.dictionary(
      fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'traceparent')),
      fc.oneof(
        fc.record({ Type: fc.constantFrom('String', 'Number', 'String.Array'), Value: text }),
        fc.uint8Array({ maxLength: 16 }).map((b) => ({ Type: 'Binary', Value: Buffer.from(b).toString('base64') })),
      ),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(text, fc.option(text, { nil: undefined }), attrs, fc.uuid(), (message, subject, attributes, id) => {
        const doc: Json = { ...envelope, MessageId: id, Message: message, MessageAttributes: attributes };
        if (subject === undefined) delete doc.Subject;
        else doc.Subject = subject;
        const [item] = parse({ Records: [recordWith(JSON.stringify(doc))] }, 'text');
        const trigger = item!.trigger as QueueTrigger;
        expect(item!.payload()).toBe(message);
        expect(item!.deliveryId).toBe(id);
        expect(trigger.sns).toEqual({ topic: envelope.TopicArn, messageId: id, time: envelope.Timestamp, ...(subject === undefined ? {} : { subject }) });
        for (const [name, a] of Object.entries(attributes)) {
          expect(trigger.attributeTypes![name]).toBe(a.Type);
          if (a.Type === 'Binary') expect(trigger.binaryAttributes![name]!.toString('base64')).toBe(a.Value);
          else expect(trigger.attributes[name]).toBe(a.Value);
        }
        expect(Object.keys(trigger.attributes).length + Object.keys(trigger.binaryAttributes ?? {}).length).toBe(Object.keys(attributes).length);
      }),
      { numRuns: 300 },
    );
  });

  it('a malformed attribute inside a detected envelope fails the message with MALFORMED_EVENT under its path', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 2 }), (junk) => {
        const doc = { ...envelope, MessageAttributes: { ...envelope.MessageAttributes, bad: junk } };
        const [item] = parse({ Records: [recordWith(JSON.stringify(doc))] });
        try {
          item!.payload();
        } catch (thrown) {
          expectMalformed(thrown);
          expect((thrown as { issues: Array<{ field: string }> }).issues[0]!.field.startsWith('Records.0.body.MessageAttributes.bad')).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
