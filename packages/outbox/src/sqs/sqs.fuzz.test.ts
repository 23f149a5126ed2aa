/**
 * Fuzz tests of the pure parts: size accounting, character validation, group ids and packing,
 * each against an independent reference written the plain way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findInvalidCharacter } from './chars.js';
import { isSqsToken, messageGroupId } from './ids.js';
import { packBatches } from './pack.js';
import { prepareMessage, type Prepared } from './prepare.js';
import { messageBytes } from './size.js';

/** Reference: UTF-8 length by code point ranges. */
function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Reference: the XML Char production, code point by code point. */
function firstInvalid(text: string): number | undefined {
  let index = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return index;
    index += ch.length;
  }
  return undefined;
}

// Strings mixing ASCII, controls, BMP, the U+FFFE/FFFF non-characters, astral characters and lone surrogates.
const anyText = fc.string({ unit: fc.oneof(fc.constantFrom('a', '\t', '\u0000', '\u0001', '\u001f', '\uFFFE', '\uFFFF', '\uD800', '\uDFFF', '\uE000', 'é', '✓', '😀'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 40 });
const wellFormed = fc.string({ unit: 'grapheme', maxLength: 40 });

describe('size accounting', () => {
  it('counts body + each attribute name, "String" and value in UTF-8 bytes', () => {
    fc.assert(
      fc.property(wellFormed, fc.dictionary(fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', '.', '-'), minLength: 1, maxLength: 10 }), wellFormed, { maxKeys: 10 }), (body, attributes) => {
        const expected = utf8Length(body) + Object.entries(attributes).reduce((n, [k, v]) => n + utf8Length(k) + 6 + utf8Length(v), 0);
        expect(messageBytes(body, attributes)).toBe(expected);
      }),
    );
  });

  // prepareMessage counts the attributes as it checks them (one walk), not through messageBytes.
  it('prepareMessage counts a message as the reference does (valid names, values with characters SQS takes)', () => {
    const name = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,8}[A-Za-z0-9_-]$/), fc.constant('__proto__')).filter((n) => !n.includes('..') && !/^(aws|amazon)\./i.test(n) && n !== 'steadyfn.claimCheck' && n !== 'steadyfn.contentEncoding');
    const value = wellFormed.filter((v) => v !== '' && findInvalidCharacter(v) === undefined);
    const body = wellFormed.filter((v) => findInvalidCharacter(v) === undefined);
    fc.assert(
      fc.property(body, fc.dictionary(name, value, { maxKeys: 9 }), (text, attributes) => {
        const prepared = prepareMessage({ id: 'm-1', body: text, attributes }, 0, { fifo: false, maxMessageBytes: 1_048_576, claimThresholdBytes: undefined, invalidCharacters: 'reject' });
        expect('code' in prepared ? prepared : undefined).toBeUndefined();
        const sent = (prepared as Prepared).attributes;
        // What is sent is what is counted: a `__proto__` key is not an own property of the copy, so neither.
        const expected = utf8Length(text) + Object.entries(sent).reduce((n, [k, v]) => n + utf8Length(k) + 6 + utf8Length(v), 0);
        expect((prepared as Prepared).bytes).toBe(expected);
        expect((prepared as Prepared).bytes).toBe(messageBytes(text, sent));
      }),
    );
  });
});

describe('character validation', () => {
  it('finds exactly the first character outside the XML Char ranges', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const found = findInvalidCharacter(text);
        const expected = firstInvalid(text);
        expect(found?.index).toBe(expected);
        if (found) {
          expect(found.codePoint).toBe(text.codePointAt(found.index));
          expect(found.loneSurrogate).toBe(found.codePoint >= 0xd800 && found.codePoint <= 0xdfff);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('group ids', () => {
  it('keeps a valid key, hashes any other one, and always yields a token SQS accepts', () => {
    fc.assert(
      fc.property(fc.oneof(anyText.filter((s) => s.length > 0), fc.string({ unit: fc.constantFrom('a', '-', '!', '~'), minLength: 1, maxLength: 200 })), (key) => {
        const id = messageGroupId(key);
        expect(isSqsToken(id)).toBe(true);
        expect(messageGroupId(key)).toBe(id);
        if (isSqsToken(key) && !key.startsWith('sha256:')) expect(id).toBe(key);
        else expect(id).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
      }),
    );
  });
});

describe('packing', () => {
  const item = fc.record({ bytes: fc.integer({ min: 1, max: 1200 }), group: fc.option(fc.constantFrom('A', 'B', 'C', 'D'), { nil: undefined }) });
  it('places every item once, within the limits, keeping each group in order across and within batches', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1000, max: 4000 }), fc.boolean(), (items, maxEntries, maxBytes, onePerGroup) => {
        const batches = packBatches(items, { maxEntries, maxBytes, onePerGroup });
        expect(batches.flat().sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
        const batchOf = new Map<number, number>();
        batches.forEach((b, bi) => {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(maxEntries);
          const bytes = b.reduce((n, i) => n + items[i]!.bytes, 0);
          if (b.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
          expect([...b].sort((x, y) => x - y)).toEqual(b);
          if (onePerGroup) {
            const groups = b.map((i) => items[i]!.group).filter((g) => g !== undefined);
            expect(new Set(groups).size).toBe(groups.length);
          }
          for (const i of b) batchOf.set(i, bi);
        });
        const last = new Map<string, number>();
        items.forEach((it, i) => {
          if (it.group === undefined) return;
          expect(batchOf.get(i)!).toBeGreaterThanOrEqual(last.get(it.group) ?? 0);
          last.set(it.group, batchOf.get(i)!);
        });
      }),
      { numRuns: 500 },
    );
  });
});
