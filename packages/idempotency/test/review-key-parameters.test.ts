/**
 * Review: the IETF draft (draft-ietf-httpapi-idempotency-key-header) defines `Idempotency-Key`
 * as an Item Structured Header whose value is a String; an Item may carry Parameters
 * (RFC 9651 §3.1.2), the structured fields' extension point, which a recipient parses by the
 * RFC grammar and ignores when it does not know them. A key sent as `"k";p=1` was refused with
 * 400 ("Text after the quoted key"); it is the key `k`. Malformed parameters stay a typed 400.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore, parseIdempotencyKeyHeader, REPLAYED_HEADER } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink } from './support.js';

type Json = { statusCode: number; headers?: Record<string, string>; body: string };

describe('review: Idempotency-Key with structured-field parameters', () => {
  it('parameters after the quoted key are parsed by the RFC grammar and are not part of the key', () => {
    for (const raw of [
      '"abc";p=1',
      '"abc";p',
      '"abc"; p=1;q=?0',
      '"abc";p=-12.5;t=tok:en/1;b=:aGk=:;s="x, \\"y\\";z";d=@1700000000;ds=%"caf%c3%a9"',
      '"abc";*ext=*',
      '"abc";p=1;p=2',
    ]) {
      expect(parseIdempotencyKeyHeader(raw), raw).toEqual({ ok: true, key: 'abc' });
    }
    // A bare key is no structured field: taken whole, `;` included, as it always was.
    expect(parseIdempotencyKeyHeader('abc;p=1')).toEqual({ ok: true, key: 'abc;p=1' });
  });

  it('malformed parameters stay a 400 saying what is wrong; a second key after parameters stays ambiguous', () => {
    const cases: Array<[string, string]> = [
      ['"abc";', 'Bad parameter name'],
      ['"abc";P=1', 'Bad parameter name'],
      ['"abc";1=1', 'Bad parameter name'],
      ['"abc";p=', 'Bad parameter value'],
      ['"abc";p="open', 'Bad parameter value'],
      ['"abc";p=1.2345', 'Bad parameter value'],
      ['"abc";p=1234567890123456', 'Bad parameter value'],
      ['"abc";p=?2', 'Bad parameter value'],
      ['"abc";p=:aGk=', 'Bad parameter value'],
      ['"abc";p=@1.5', 'Bad parameter value'],
      ['"abc";p=%"%C3%A9"', 'Bad parameter value'],
      ['"abc";p=%"%ff"', 'Bad parameter value'],
      ['"abc" ;p=1', 'Text after the quoted key'],
      ['"abc";p=1 x', 'Text after the quoted key'],
    ];
    for (const [raw, reason] of cases) expect(parseIdempotencyKeyHeader(raw), raw).toEqual({ ok: false, reason });
    expect(parseIdempotencyKeyHeader('"abc";p="x", "def"')).toEqual({ ok: false, reason: 'More than one key', ambiguous: true });
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
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID', errors: [{ field: 'headers.idempotency-key', message: 'Bad parameter value' }] });
    expect(runs).toBe(1);
  });
});
