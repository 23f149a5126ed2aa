/**
 * SQS and SNS message attributes as Lambda hands them over (shapes from the published samples
 * in test/fixtures/aws/published): text kept exact, Binary decoded, types kept, malformed
 * entries refused with the field and what was expected.
 */
import { describe, expect, it } from 'vitest';
import { published } from '../../test/support/published.js';
import { snsMessageAttributes, sqsMessageAttributes } from './attributes.js';

const sqs = (attrs: unknown) => sqsMessageAttributes(attrs, 'Records.0.messageAttributes');

describe('sqsMessageAttributes', () => {
  it('reads the published sample: String and Number as exact text, Binary (and Binary.gif) as bytes', () => {
    const { attributes, error } = sqs(published('aws', 'sqs-typed-attributes.json').Records[0].messageAttributes);
    expect(error).toBeUndefined();
    expect(attributes.attributes.amount).toBe('12345678901234567890.0000000001');
    expect(attributes.binaryAttributes?.thumbnail?.toString('hex')).toBe('89504e470d0a1a0a');
    expect(attributes.attributeTypes?.pixel).toBe('Binary.gif');
  });

  it('has no attributes, and no optional maps, when messageAttributes is absent, null or {}', () => {
    for (const none of [undefined, null, {}]) expect(sqs(none)).toEqual({ attributes: { attributes: {} } });
  });

  it('leaves binaryAttributes out when every attribute is text', () => {
    const { attributes } = sqs({ a: { stringValue: '1', dataType: 'Number' } });
    expect(attributes).toEqual({ attributes: { a: '1' }, attributeTypes: { a: 'Number' } });
  });

  it('keeps a name such as __proto__ as an own key without touching the prototype', () => {
    const { attributes } = sqs(JSON.parse('{"__proto__":{"binaryValue":"AAE=","dataType":"Binary"},"constructor":{"stringValue":"x","dataType":"String"}}'));
    expect(Object.getPrototypeOf(attributes.binaryAttributes)).toBe(Object.prototype);
    expect(Object.hasOwn(attributes.binaryAttributes!, '__proto__')).toBe(true);
    expect(attributes.attributes.constructor).toBe('x');
  });

  it('gives the error naming the field for each malformed shape, keeping what was read before it', () => {
    const cases: Array<[unknown, string, string]> = [
      ['text', 'Records.0.messageAttributes', 'an object of SQS message attributes'],
      [{ ok: { stringValue: 'v', dataType: 'String' }, bad: 'v' }, 'Records.0.messageAttributes.bad', 'an SQS message attribute'],
      [{ bad: { stringValue: 'v' } }, 'Records.0.messageAttributes.bad.dataType', 'String, Number or Binary'],
      [{ bad: { binaryValue: 'AAE=A', dataType: 'Binary' } }, 'Records.0.messageAttributes.bad.binaryValue', 'base64 text'],
      [{ bad: { stringValue: 'AAE=', dataType: 'Binary' } }, 'Records.0.messageAttributes.bad.binaryValue', 'base64 text'],
      [{ bad: { binaryValue: 'AAE=', dataType: 'Number' } }, 'Records.0.messageAttributes.bad.stringValue', 'a string'],
      [{ bad: { stringValue: 12, dataType: 'Number' } }, 'Records.0.messageAttributes.bad.stringValue', 'a string'],
    ];
    for (const [value, field, expected] of cases) {
      const { attributes, error } = sqs(value);
      expect(error?.code, field).toBe('MALFORMED_EVENT');
      expect(error?.issues, field).toEqual([expect.objectContaining({ field, expected: expect.stringContaining(expected) })]);
      if (field.endsWith('.bad')) expect(attributes.attributes).toEqual({ ok: 'v' });
    }
  });
});

describe('snsMessageAttributes', () => {
  it('reads the published sample: String.Array and Number as their text, Binary as bytes', () => {
    const got = snsMessageAttributes(published('aws', 'sns-typed-attributes.json').Records[0].Sns.MessageAttributes, 'Sns.MessageAttributes');
    expect(got.attributes).toEqual({ level: 'warn', hosts: '["web-1","web-2",7,true]', threshold: '9007199254740993' });
    expect(got.binaryAttributes).toEqual({ signature: Buffer.from([0, 255, 254, 127]) });
  });

  it('throws MALFORMED_EVENT naming the field', () => {
    expect(() => snsMessageAttributes({ b: { Type: 'Binary', Value: '%%%' } }, 'Sns.MessageAttributes')).toThrow(
      expect.objectContaining({ code: 'MALFORMED_EVENT', issues: [expect.objectContaining({ field: 'Sns.MessageAttributes.b.Value', expected: expect.stringContaining('base64') })] }),
    );
    expect(() => snsMessageAttributes([1], 'Sns.MessageAttributes')).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ field: 'Sns.MessageAttributes' })] }));
  });
});
