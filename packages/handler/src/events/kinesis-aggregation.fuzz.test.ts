/**
 * Fuzz: KPL framing with hostile insides — random bytes after the magic, a real aggregated
 * record with bytes flipped, cut or extended — read with aws-kinesis-agg's deaggregateSync
 * give user records or a typed MALFORMED_EVENT for the record, never another throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregatedBytes, deaggregateSync, kinesisRecord } from '../../test/support/kinesis-aggregation.js';
import { expectItemsOrMalformed } from '../../test/support/fuzz.js';
import { kinesisItems } from './kinesis.js';

const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const parse = (bytes: Buffer) => kinesisItems([kinesisRecord(bytes, 'pk', '1')], { body: 'auto', kinesisDeaggregate: deaggregateSync }).items;

describe('KPL aggregated records under hostile bytes', () => {
  it('random bytes after the magic number: user records or MALFORMED_EVENT', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (tail) => {
        expectItemsOrMalformed(() => parse(Buffer.concat([MAGIC, Buffer.from(tail)])));
      }),
      { numRuns: 300 },
    );
  });

  it('a real aggregated record with bytes flipped, cut or appended: user records or MALFORMED_EVENT', async () => {
    const real = await aggregatedBytes([
      { partitionKey: 'a', data: Buffer.from('{"n":1}') },
      { partitionKey: 'b', data: Buffer.from([0xff, 0x00]) },
    ]);
    expect(parse(real.data)).toHaveLength(2);
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: real.data.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'cut', 'append'),
        (at, byte, how) => {
          const bytes = Buffer.from(real.data);
          const mutated = how === 'flip' ? ((bytes[at] = bytes[at]! ^ byte), bytes) : how === 'cut' ? bytes.subarray(0, at) : Buffer.concat([bytes, Buffer.from([byte])]);
          expectItemsOrMalformed(() => parse(mutated));
        },
      ),
      { numRuns: 300 },
    );
  });
});
