/** Fuzz the parsers that read outside input (S3 bodies, Redis hash fields) and the freezing of states. */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceError } from './errors.js';
import { redisHash } from './sources/redis.js';
import { decodeUtf8, deepFreeze, parseJson, parseNdjson, sameVersion } from './util.js';

const signal = new AbortController().signal;
/** JSON with object keys sorted, so key order does not count as a difference. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x,
  );
const json = fc.jsonValue();

describe('parsers (fuzz)', () => {
  it('decodeUtf8 reads UTF-8 as Buffer does, and refuses any other bytes at the end of their longest decodable prefix', () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: 'grapheme', maxLength: 20 }).map((t) => new Uint8Array(Buffer.from(t, 'utf8'))));
    fc.assert(
      fc.property(bytes, (input) => {
        const buffer = Buffer.from(input);
        if (isUtf8(buffer)) {
          expect(decodeUtf8(input, 'x')).toBe(buffer.toString('utf8'));
          return;
        }
        const thrown = (() => {
          try {
            decodeUtf8(input, 'x');
          } catch (error) {
            return error;
          }
          return undefined;
        })();
        expect(thrown).toBeInstanceOf(SourceError);
        const at = Number(/^x is not valid UTF-8 \(at byte (\d+)\)$/.exec((thrown as SourceError).message)?.[1]);
        // The bytes before the offset decode (possibly ending in a cut sequence); one more do not,
        // or, at the very end, the last sequence is cut short.
        const decoder = () => new TextDecoder('utf-8', { fatal: true });
        expect(() => decoder().decode(input.subarray(0, at), { stream: true })).not.toThrow();
        if (at < input.length) expect(() => decoder().decode(input.subarray(0, at + 1), { stream: true })).toThrow();
        else expect(() => decoder().decode(input)).toThrow();
      }),
    );
  });

  it('parseNdjson round-trips any list of JSON values, whatever the line endings and blank lines', () => {
    fc.assert(
      fc.property(fc.array(json, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), fc.array(fc.nat(20), { maxLength: 5 }), (values, eol, blanks) => {
        const lines = values.map((v) => JSON.stringify(v));
        for (const at of blanks) lines.splice(Math.min(at, lines.length), 0, '  ');
        const text = lines.join(eol) + (values.length % 2 ? eol : '');
        // JSON.stringify turns -0 into 0: compare through it.
        expect(parseNdjson(text, 'x')).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
      }),
    );
  });

  it('parseNdjson and parseJson only ever throw a SourceError, and never echo the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const secret = `SECRET${raw}SECRET`;
        for (const parse of [() => parseNdjson(`${secret}\n${raw}`, 'the object'), () => parseJson(secret, 'the object')]) {
          try {
            parse();
          } catch (error) {
            expect(error).toBeInstanceOf(SourceError);
            expect((error as Error).message).not.toContain('SECRET');
          }
        }
      }),
    );
  });

  it('redisHash keeps any field name as an own property (including __proto__) and never changes the prototype', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString')), fc.string(), { minKeys: 1 }), async (fields) => {
        const entries = Object.entries(fields);
        const client = {
          get: async () => null,
          hget: async () => null,
          hgetall: async () => Object.fromEntries(entries),
        };
        const value = (await redisHash({ client, key: 'k' }).load(signal)).value;
        expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
        for (const [k, v] of entries) {
          expect(Object.hasOwn(value, k)).toBe(true);
          expect(value[k]).toBe(v);
        }
      }),
    );
  });
});

describe('deepFreeze and sameVersion (fuzz)', () => {
  it('freezes every plain object and array of any JSON value, leaving it equal', () => {
    fc.assert(
      fc.property(json, (value) => {
        const copy = structuredClone(value);
        deepFreeze(value);
        expect(value).toEqual(copy);
        const stack: unknown[] = [value];
        while (stack.length) {
          const item = stack.pop();
          if (typeof item === 'object' && item !== null) {
            expect(Object.isFrozen(item)).toBe(true);
            stack.push(...Object.values(item));
          }
        }
      }),
    );
  });

  it('sameVersion is reflexive on copies and tells different JSON values apart', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameVersion(a, structuredClone(a))).toBe(true);
        const equal = canonical(a) === canonical(b);
        if (!equal && !Number.isNaN(a) && !Object.is(a, -0) && !Object.is(b, -0)) expect(sameVersion(a, b)).toBe(false);
      }),
    );
  });
});
