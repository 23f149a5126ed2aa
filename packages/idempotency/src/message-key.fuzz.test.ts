/**
 * `key: 'input'` on a message with its payload as delivered (`trigger.rawBody`): any two
 * different bodies get different keys, the same body the same key, and nothing outside the
 * body (message id, attempt, attributes) moves it (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Context, QueueTrigger, StreamTrigger } from '@steadyfn/handler';
import { canonicalHash } from './fingerprint.js';
import { messageBodyHash, resolveKey } from './key.js';

type Body = string | Buffer;

function queueCtx(rawBody: Body | undefined, envelope: { messageId: string; attempt: number; attributes: Record<string, string> }, input: unknown = {}): Context {
  const trigger: QueueTrigger = { kind: 'queue', source: 'sqs', ...envelope, batchIndex: 0, batchSize: 1, ...(rawBody === undefined ? {} : { rawBody }) };
  return { trigger, input, deliveryId: envelope.messageId, requestId: 'req', functionName: 'fn' } as unknown as Context;
}

function streamCtx(rawBody: Body): Context {
  const trigger: StreamTrigger = { kind: 'stream', source: 'kinesis', stream: 's', partition: '0', sequence: '1', attributes: {}, batchIndex: 0, batchSize: 1, rawBody };
  return { trigger, input: {}, deliveryId: 's/1', requestId: 'req', functionName: 'fn' } as unknown as Context;
}

const same = (a: Body, b: Body): boolean => (typeof a === 'string' ? typeof b === 'string' && a === b : Buffer.isBuffer(b) && a.equals(b));

// Any code point, lone surrogates included; bytes of any value; and JSON-looking text with long numbers.
const text = fc.string({ unit: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), maxLength: 80 });
const bigJson = fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map((n) => `{"id":${n}}`);
const bytes = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b));
const body: fc.Arbitrary<Body> = fc.oneof(text, bigJson, bytes, bigJson.map((t) => Buffer.from(t, 'utf8')));
/** Two bodies: unrelated, one and its copy (a redelivery), or text and its own UTF-8 bytes. */
const pair: fc.Arbitrary<[Body, Body]> = fc.oneof(
  fc.tuple(body, body),
  body.map((a): [Body, Body] => [a, typeof a === 'string' ? `${a}` : Buffer.from(a)]),
  text.map((t): [Body, Body] => [t, Buffer.from(t, 'utf8')]),
);
const envelope = fc.record({ messageId: fc.string({ minLength: 1, maxLength: 20 }), attempt: fc.integer({ min: 1, max: 50 }), attributes: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }) });

describe('input keys of message bodies', () => {
  it('differ for any two different raw bodies (text, bytes, big-int JSON) and agree for the same one', () => {
    fc.assert(
      fc.property(pair, envelope, envelope, ([a, b], ea, eb) => {
        const ka = resolveKey(queueCtx(a, ea), 'input')!;
        const kb = resolveKey(queueCtx(b, eb), 'input')!;
        expect(ka.kind).toBe('input');
        expect(ka.value === kb.value).toBe(same(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('tells apart integers past 2^53 that parse to the same number', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 53n, max: 1n << 64n }), fc.bigInt({ min: 1n, max: 1000n }), (n, d) => {
        const [a, b] = [`{"id":${n}}`, `{"id":${n + d}}`];
        const parsedA = JSON.parse(a) as unknown;
        expect(resolveKey(queueCtx(a, { messageId: 'm1', attempt: 1, attributes: {} }, parsedA), 'input')!.value).not.toBe(
          resolveKey(queueCtx(b, { messageId: 'm1', attempt: 1, attributes: {} }, JSON.parse(b)), 'input')!.value,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('is the documented hash, the same on every message trigger, and never a parsed-input hash', () => {
    fc.assert(
      fc.property(body, fc.jsonValue(), (raw, input) => {
        const key = resolveKey(queueCtx(raw, { messageId: 'm', attempt: 1, attributes: {} }, input), 'input')!;
        expect(key.value).toBe(messageBodyHash(raw));
        expect(resolveKey(streamCtx(raw), 'input')!.value).toBe(key.value);
        // Without a raw body (an already-parsed Azure JSON message) the key is the input's hash, as before.
        const parsed = resolveKey(queueCtx(undefined, { messageId: 'm', attempt: 1, attributes: {} }, input), 'input')!;
        expect(parsed.value).toBe(canonicalHash(input));
        expect(parsed.value).not.toBe(key.value);
      }),
      { numRuns: 500 },
    );
  });
});
