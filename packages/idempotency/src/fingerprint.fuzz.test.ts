/** Key extraction and fingerprinting under hostile input (fast-check). */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SteadyError, type Context, type HttpTrigger } from '@steadyfn/handler';
import { canonicalHash, canonicalText } from './fingerprint.js';
import { MAX_KEY_LENGTH, fingerprintOf, parseIdempotencyKeyHeader, resolveKey, storeKey, scopeOf } from './key.js';

const normaliseZero = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7) || (seed % 2 ? a[0].localeCompare(b[0]) : b[0].localeCompare(a[0])));
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: shuffleKeys(v, seed + 1), enumerable: true, writable: true, configurable: true });
  return out;
}

function httpCtx(headers: Record<string, string>, input: unknown = {}, path = '/x'): Context {
  const trigger: HttpTrigger = { kind: 'http', source: 'apigw-v2', request: { method: 'POST', path, headers, query: {}, multiQuery: {}, rawBody: undefined } };
  return { trigger, input, deliveryId: undefined, requestId: 'req', functionName: 'fn' } as unknown as Context;
}

describe('canonical fingerprint', () => {
  it('is JSON with sorted keys for JSON values, so equal text means equal values (injective)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalText(value);
        expect(JSON.parse(text)).toEqual(normaliseZero(value));
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 1000 }), (value, seed) => {
        expect(canonicalHash(shuffleKeys(value, seed))).toBe(canonicalHash(value));
      }),
      { numRuns: 300 },
    );
  });

  it('gives two JSON values the same text exactly when they are deeply equal', () => {
    const pair = fc.oneof(
      fc.tuple(fc.jsonValue(), fc.jsonValue()),
      fc.jsonValue().map((v) => [v, normaliseZero(v)] as const),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(canonicalText(a) === canonicalText(b)).toBe(isDeepStrictEqual(normaliseZero(a), normaliseZero(b)));
      }),
      { numRuns: 500 },
    );
  });

  it('survives hostile shapes: 200k-deep nesting, cycles, BigInt, symbols, __proto__ keys, lone surrogates', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(canonicalHash(deep)).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(canonicalHash(cyclic)).toBe(canonicalHash(cyclic));
    const shared = { x: 1 };
    expect(canonicalText({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');

    expect(canonicalHash({ n: 1n })).not.toBe(canonicalHash({ n: 1 }));
    expect(canonicalHash({ n: '1' })).not.toBe(canonicalHash({ n: 1 }));
    expect(canonicalHash({ s: Symbol('x'), f: () => 1 })).toBe(canonicalHash({}));
    expect(canonicalHash(JSON.parse('{"__proto__":{"admin":true}}'))).not.toBe(canonicalHash({}));
    expect(canonicalHash('\ud800')).not.toBe(canonicalHash('\udc00'));
    expect(canonicalHash('\ud800')).not.toBe(canonicalHash('\ufffd'));
    expect(canonicalHash(new Date(0))).not.toBe(canonicalHash(0));
    expect(canonicalHash(new Uint8Array([1, 2]))).not.toBe(canonicalHash([1, 2]));
    expect(canonicalHash([NaN])).not.toBe(canonicalHash([null]));
  });

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withObjectString: true }), (value) => {
        expect(canonicalHash(value)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Idempotency-Key header', () => {
  // Any code point, lone surrogates included (fast-check's 'binary' unit is much slower to generate).
  const anyText = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), maxLength: 600 }),
    // Near misses: quotes, escapes, whitespace and control characters in short keys.
    fc.string({ unit: fc.constantFrom('"', '\\', ' ', '\t', 'a', '\x7f', '\u0000', ',', '\ud800'), maxLength: 12 }),
  );
  const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: MAX_KEY_LENGTH });

  it('accepts every printable key bare and as a structured-field string, and reads back the same key', () => {
    fc.assert(
      fc.property(printable, (key) => {
        const quoted = `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
        expect(parseIdempotencyKeyHeader(quoted)).toEqual({ ok: true, key });
        if (!key.startsWith('"') && key.trim() === key) {
          // A bare comma separates two keys (a repeated header joined by the provider): ambiguous.
          if (key.includes(',')) expect(parseIdempotencyKeyHeader(key)).toEqual({ ok: false, reason: 'More than one key', ambiguous: true });
          else expect(parseIdempotencyKeyHeader(key)).toEqual({ ok: true, key });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws; whatever it accepts is 1–255 printable ASCII characters', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const parsed = parseIdempotencyKeyHeader(raw);
        if (parsed.ok) {
          expect(parsed.key.length).toBeGreaterThan(0);
          expect(parsed.key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
          expect(/^[\x20-\x7e]+$/.test(parsed.key)).toBe(true);
        } else {
          expect(typeof parsed.reason).toBe('string');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a hostile header is a typed 400 naming the field, never anything else', () => {
    fc.assert(
      fc.property(anyText, fc.jsonValue(), (raw, input) => {
        try {
          const key = resolveKey(httpCtx({ 'idempotency-key': raw }, input), 'auto');
          expect(key?.kind).toBe('header');
        } catch (error) {
          expect(error).toBeInstanceOf(SteadyError);
          expect(error).toMatchObject({ status: 400, retryable: false, issues: [{ field: 'headers.idempotency-key' }] });
          expect(['IDEMPOTENCY_KEY_INVALID', 'IDEMPOTENCY_KEY_AMBIGUOUS']).toContain((error as SteadyError).code);
          // The rejected key is never echoed back.
          if (raw.length > 3) expect(JSON.stringify((error as SteadyError).issues)).not.toContain(raw);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('store keys are fixed-size hashes that never contain the client key, namespaced by function', () => {
    fc.assert(
      fc.property(printable, fc.string(), fc.string(), (key, fnA, fnB) => {
        const resolved = { kind: 'header' as const, value: key };
        const a = storeKey(scopeOf(fnA), resolved);
        expect(a).toMatch(/^[A-Za-z0-9_-]{16}:h[A-Za-z0-9_-]{43}$/);
        if (key.length > 3) expect(a).not.toContain(key);
        if (fnA !== fnB) expect(storeKey(scopeOf(fnB), resolved)).not.toBe(a);
        expect(storeKey(scopeOf(fnA), { kind: 'delivery', value: key })).not.toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it('fingerprints cover method, path and input for HTTP', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const key = { kind: 'header' as const, value: 'k' };
        const fa = fingerprintOf(httpCtx({}, a), key);
        expect(fingerprintOf(httpCtx({}, shuffleKeys(a, 3)), key)).toBe(fa);
        expect(fingerprintOf(httpCtx({}, a, '/other'), key)).not.toBe(fa);
        if (canonicalText(a) !== canonicalText(b)) expect(fingerprintOf(httpCtx({}, b), key)).not.toBe(fa);
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonical fast path', () => {
  it('writes exactly what the general path writes', async () => {
    const { canonicalText: text } = await import('./fingerprint.js');
    // Wrapping in a Map forces the general path for the inner value.
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(`#M[${JSON.stringify('k')}=>${text(value)}]`).toBe(text(new Map([['k', value]])));
      }),
      { numRuns: 500 },
    );
  });
});
