import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromCloudEvent, toCloudEvent } from './cloudevents.js';
import { checkDeclarations, MAX_SCHEMA_VERSION, parseEnvelope, prepareEvent, serializeEvent } from './envelope.js';

const anyPayload = { Any: { aggregateType: 'thing', schema: { safeParse: (v: unknown) => ({ success: true as const, data: v }) } } };

describe('parseEnvelope (fuzz)', () => {
  it('never throws on any input, and accepts only well-formed envelopes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue(), fc.anything()), (value) => {
        const parsed = parseEnvelope(value);
        if (parsed.ok) {
          expect(typeof parsed.event.id).toBe('string');
          expect(Number.isSafeInteger(parsed.event.seq)).toBe(true);
        } else expect(typeof parsed.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every serialisable event through JSON and CloudEvents', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), fc.jsonValue(), fc.integer({ min: 1, max: 2 ** 40 }), (aggregateId, payload, seq) => {
        const event = prepareEvent(anyPayload, { type: 'Any', aggregateId, payload }, { correlationId: 'c' });
        const json = serializeEvent(event, seq);
        const parsed = parseEnvelope(json);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.event).toEqual(JSON.parse(json));
        expect(fromCloudEvent(JSON.parse(JSON.stringify(toCloudEvent(parsed.event, { source: '/s' }))))).toEqual({ ok: true, event: parsed.event });
      }),
      { numRuns: 500 },
    );
  });
});

/** A valid envelope's JSON object with `patch` applied. */
const envelopeWith = (patch: Record<string, unknown>) => ({ ...JSON.parse(serializeEvent(prepareEvent(anyPayload, { type: 'Any', aggregateId: 'a-1', payload: {} }, {}), 1)), ...patch });
const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('envelope bounds (fuzz)', () => {
  it('schemaVersion: accepted from 1 to 2^31 − 1 (a CloudEvents Integer), refused above — parsed, declared, and back from a CloudEvent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: MAX_SCHEMA_VERSION }), fc.integer({ min: MAX_SCHEMA_VERSION + 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(MAX_SCHEMA_VERSION, MAX_SCHEMA_VERSION + 1)), (v) => {
        const ok = v <= MAX_SCHEMA_VERSION;
        const parsed = parseEnvelope(envelopeWith({ schemaVersion: v }));
        expect(parsed.ok).toBe(ok);
        if (parsed.ok) expect(fromCloudEvent(JSON.parse(JSON.stringify(toCloudEvent(parsed.event, { source: '/s' }))))).toEqual(parsed);
        else expect(fromCloudEvent({ ...toCloudEvent(envelopeWith({}) as never, { source: '/s' }), schemaversion: v }).ok).toBe(false);
        const declare = () => checkDeclarations('outbox', { Any: { ...anyPayload.Any, schemaVersion: v } });
        if (ok) expect(declare).not.toThrow();
        else expect(declare).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      }),
      { numRuns: 300 },
    );
  });

  it('occurredAt: accepted exactly when its fields name a real UTC instant (a Date gives them back unchanged)', () => {
    expect(parseEnvelope(envelopeWith({ occurredAt: '2025-13-45T99:99:99Z' })).ok).toBe(false);
    expect(parseEnvelope(envelopeWith({ occurredAt: '2025-02-29T00:00:00.000Z' })).ok).toBe(false);
    expect(parseEnvelope(envelopeWith({ occurredAt: '2024-02-29T23:59:59.999Z' })).ok).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), (y, mo, d, h, mi, sec) => {
        const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(sec, 2)}.000Z`;
        const date = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
        const real = mo >= 1 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === sec;
        expect(parseEnvelope(envelopeWith({ occurredAt: text })).ok).toBe(real);
        if (real) expect(date.toISOString()).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('toCloudEvent source: an RFC 3986 URI-reference, else CONFIG_INVALID on field source', () => {
    const event = envelopeWith({}) as never;
    for (const good of ['/shop/orders', 'urn:app:orders', 'https://example.com/a?b=c#d', 'orders', '//[::1]:8080/x', 'a%20b', 'mailto:ops@example.com']) expect(toCloudEvent(event, { source: good }).source).toBe(good);
    for (const bad of ['', 'a b', '/shop orders', '%', '%zz', 'a%2', 'ä', '1ab:c', 'a#b#c', '/x[1]', 'tab\there', '"q"', '<x>']) {
      expect(() => toCloudEvent(event, { source: bad })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'source' }));
    }
    const unreserved = fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@'.split(''));
    const pct = fc.tuple(fc.constantFrom(...'0123456789abcdefABCDEF'), fc.constantFrom(...'0123456789abcdefABCDEF')).map(([a, b]) => `%${a}${b}`);
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(unreserved, pct), { maxLength: 8 }).map((c) => c.join('')), { minLength: 1, maxLength: 5 }), (segments) => {
        // A path-absolute reference (RFC 3986 §4.2) is always accepted.
        expect(toCloudEvent(event, { source: `/${segments.join('/')}` }).source).toBe(`/${segments.join('/')}`);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (text) => {
        let accepted = true;
        try {
          toCloudEvent(event, { source: text });
        } catch (error) {
          expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'source' });
          accepted = false;
        }
        // Whatever is accepted has no space, control or non-ASCII character, and only well-formed escapes.
        if (accepted) expect(/[^\x21-\x7e]|%(?![0-9A-Fa-f]{2})/.test(text)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
