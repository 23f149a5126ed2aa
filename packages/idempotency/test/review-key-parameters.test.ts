/**
 * Review: the IETF draft (draft-ietf-httpapi-idempotency-key-header) defines `Idempotency-Key`
 * as an Item Structured Header whose value is a String; an Item may carry Parameters
 * (RFC 9651 §3.1.2), the structured fields' extension point, which a recipient parses by the
 * RFC grammar and ignores when it does not know them. A key sent as `"k";p=1` was refused with
 * 400 ("Text after the quoted key"); it is the key `k`. Malformed parameters stay a typed 400.
 * The parsing is the `structured-headers` package's (RFC 9651); where it decides otherwise than
 * the RFC, the test says so.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore, parseIdempotencyKeyHeader, REPLAYED_HEADER } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink } from './support.js';

type Json = { statusCode: number; headers?: Record<string, string>; body: string };

describe('review: Idempotency-Key with structured-field parameters', () => {
  it('parameters after the quoted key are parsed as RFC 9651 parameters and are not part of the key', () => {
    for (const raw of [
      '"abc";p=1',
      '"abc";p',
      '"abc"; p=1;q=?0',
      '"abc";p=-12.5;t=tok:en/1;b=:aGk=:;s="x, \\"y\\";z";ds=%"caf%c3%a9";d=@1700000000',
      '"abc";b=:aGk:',
      '"abc";*ext=*',
      '"abc";p=1;p=2',
    ]) {
      expect(parseIdempotencyKeyHeader(raw), raw).toEqual({ ok: true, key: 'abc' });
    }
    // A bare key is no structured field: taken whole, `;` included, as it always was.
    expect(parseIdempotencyKeyHeader('abc;p=1')).toEqual({ ok: true, key: 'abc;p=1' });
    // So are the other structured-field items: a Token, Integer, Byte Sequence or Boolean is a bare key, not a 400.
    for (const raw of ['tok:en/1', '42', ':aGk=:', '?1', '@1700000000']) expect(parseIdempotencyKeyHeader(raw), raw).toEqual({ ok: true, key: raw });
  });

  it('a malformed quoted key or parameter stays a 400; a second key after a quoted one stays ambiguous, even one that is no structured field', () => {
    const cases = [
      '"abc";',
      '"abc";P=1',
      '"abc";1=1',
      '"abc";p=',
      '"abc";p="open',
      '"abc";p=1.2345',
      '"abc";p=1234567890123456',
      '"abc";p=?2',
      '"abc";p=:aGk=',
      '"abc";p=@1.5',
      '"abc";p=%"%C3%A9"',
      '"abc";p=%"%ff"',
      '"abc" ;p=1',
      '"abc";p=1 x',
      '"a\\x"',
      '"abc',
      '"caf\u00e9"',
    ];
    // One fixed reason: the parser's own messages can quote the value, which is never echoed.
    for (const raw of cases) expect(parseIdempotencyKeyHeader(raw), raw).toEqual({ ok: false, reason: 'Not a structured-field String' });
    for (const raw of ['"abc";p="x", "def"', '"abc", def', '"abc",', '"abc", 8e03978e-40d5', '"abc";p=1\t, {x}']) {
      expect(parseIdempotencyKeyHeader(raw), raw).toEqual({ ok: false, reason: 'More than one key', ambiguous: true });
    }
  });

  it('where structured-headers 2.1.0 departs from RFC 9651 its decision stands (both still a key or a typed 400)', () => {
    // A Date (§4.2.9) is read to the end of the field, so one followed by another parameter is
    // refused (the RFC stops at the first non-digit); last, it is read as the RFC says.
    expect(parseIdempotencyKeyHeader('"abc";d=@1700000000;v=1')).toEqual({ ok: false, reason: 'Not a structured-field String' });
    expect(parseIdempotencyKeyHeader('"abc";v=1;d=@1700000000')).toEqual({ ok: true, key: 'abc' });
    // A Display String (§4.2.10) accepts characters above U+00FF, which the RFC refuses; the
    // parameter is ignored either way, and the key is still printable ASCII.
    expect(parseIdempotencyKeyHeader('"abc";ds=%"\u0101"')).toEqual({ ok: true, key: 'abc' });
  });

  it('through the plugin: "k";p=1 runs once and its retry without parameters replays; a broken one is 400 IDEMPOTENCY_KEY_INVALID', async () => {
    let runs = 0;
    const main = handler({ name: `sfp-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: memoryStore(), ttlMs: 60_000 })] }, () => ({ n: ++runs }));
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key: `"${key}";p=1`, body: { a: 1 } }), lambdaContext())) as Json;
    const again = (await main.aws(httpEvent({ key: `"${key}"`, body: { a: 1 } }), lambdaContext())) as Json;
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.headers?.[REPLAYED_HEADER]).toBe('true');
    expect(runs).toBe(1);
    const bad = (await main.aws(httpEvent({ key: `"${key}";p=`, body: { a: 1 } }), lambdaContext())) as Json;
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID', errors: [{ field: 'headers.idempotency-key', message: 'Not a structured-field String' }] });
    expect(runs).toBe(1);
  });
});
