/**
 * Fuzz: secret parameters in any common spelling (snake, kebab, camel, Pascal, upper case), in
 * every place `scrubText` reads parameters from — a URL's query or fragment, a form body, an
 * Azure (`;`), libpq (space) or StackExchange.Redis (`,`) connection string — never keep their
 * value; text made of other parameters (`code` and `key` outside a URL among them) is unchanged.
 * Review rvm2: a secret after another `name:`, in escaped JSON, in an array; masking is
 * idempotent; error lines whose class name holds a secret word are kept. s55: a URL password
 * holding an unencoded `#`, `/`, `?` or `@`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scrubText } from './scrub.js';

/** Secret names as words: each is spelled every way below. */
const SECRET_WORDS: ReadonlyArray<ReadonlyArray<string>> = [
  ['access', 'token'], ['auth', 'token'], ['api', 'token'], ['session', 'token'], ['id', 'token'], ['refresh', 'token'], ['token'],
  ['client', 'secret'], ['secret'], ['api', 'key'], ['password'], ['passwd'], ['pwd'], ['signature'], ['sig'], ['jwt'],
  ['client', 'assertion'], ['credential'], ['passphrase'], ['subscription', 'key'], ['account', 'key'], ['shared', 'access', 'key'],
  ['x', 'amz', 'security', 'token'], ['x', 'goog', 'signature'], ['session', 'id'], ['auth'],
];

const capital = (word: string): string => word[0]!.toUpperCase() + word.slice(1);
const SPELLINGS: ReadonlyArray<(words: ReadonlyArray<string>) => string> = [
  (w) => w.join('_'),
  (w) => w.join('-'),
  (w) => w[0]! + w.slice(1).map(capital).join(''),
  (w) => w.map(capital).join(''),
  (w) => w.join('_').toUpperCase(),
];

/** Where a parameter stands: the text around `name=value`. */
const PLACES: ReadonlyArray<(param: string) => string> = [
  (p) => `GET https://h.example/p?${p}`,
  (p) => `GET https://h.example/p?page=2&${p}&b=1`,
  (p) => `https://app.example/cb#${p}&state=s`,
  (p) => `${p}&grant_type=client_credentials`,
  (p) => `Endpoint=sb://ns.example/;${p};EntityPath=q`,
  (p) => `connect failed: host=db user=app ${p} dbname=orders`,
  (p) => `redis0:6380,${p},ssl=True`,
  (p) => `"${p}"`,
];

/** A value: a marker no name or place contains, then URL-safe characters. */
const value = fc.stringMatching(/^[A-Za-z0-9%._~+/=-]{0,24}$/).map((rest) => `Qv9${rest}`);

const secretName = fc.tuple(fc.constantFrom(...SECRET_WORDS), fc.constantFrom(...SPELLINGS)).map(([words, spell]) => spell(words));

/** Names that only look alike, and the others a URL or a connection string carries. */
const KEPT_NAMES = ['page', 'user', 'host', 'dbname', 'ssl', 'sslmode', 'state', 'author', 'signal', 'design', 'sigma', 'authorizer', 'oauthProvider', 'postcode', 'keyboard', 'monkey', 'AccountName', 'SharedAccessKeyName', 'X-Amz-Expires', 'abortConnect', 'grant_type', 'token_type', 'FUNCTION_SIGNATURE_TYPE', 'signatureVersion'];

describe('scrubText (fuzz)', () => {
  it('never keeps the value of a secret parameter, in any spelling, anywhere', () => {
    fc.assert(
      fc.property(secretName, value, fc.constantFrom(...PLACES), (name, secret, place) => {
        const text = place(`${name}=${secret}`);
        const scrubbed = scrubText(text);
        expect(scrubbed).not.toContain(secret);
        expect(scrubbed).toBe(text.replace(`${name}=${secret}`, `${name}=[redacted]`));
      }),
      { numRuns: 1000 },
    );
  });

  it('never keeps the value of a secret JSON member, header line, quoted or spaced parameter (review rvx)', () => {
    const forms: ReadonlyArray<(name: string, v: string) => [string, string]> = [
      (n, v) => [`body {"a":1,"${n}":"${v}","b":2}`, `body {"a":1,"${n}":"[redacted]","b":2}`],
      (n, v) => [`Host: h\r\n${n}: Bearer ${v}\r\nAccept: */*`, `Host: h\r\n${n}: [redacted]\r\nAccept: */*`],
      (n, v) => [`host=db ${n}='${v} ${v}' dbname=app`, `host=db ${n}='[redacted]' dbname=app`],
      (n, v) => [`failed: ${n} = ${v} for app`, `failed: ${n} = [redacted] for app`],
    ];
    fc.assert(
      fc.property(secretName, value, fc.constantFrom(...forms), (name, secret, form) => {
        const [text, expected] = form(name, secret);
        expect(scrubText(text)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('masks code and key as URL parameters only; text of other parameters is unchanged', () => {
    fc.assert(
      fc.property(fc.constantFrom('code', 'key', 'Code', 'KEY'), value, (name, secret) => {
        expect(scrubText(`https://h.example/cb?${name}=${secret}`)).toBe(`https://h.example/cb?${name}=[redacted]`);
        for (const text of [`${name}=${secret} not found`, `failed: ${name}=${secret}`, `redis0:6380,${name}=${secret}`]) expect(scrubText(text)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps text made of non-secret parameters as it is, wherever they stand', () => {
    const param = fc.tuple(fc.constantFrom(...KEPT_NAMES), value).map(([name, v]) => `${name}=${v}`);
    fc.assert(
      fc.property(fc.array(param, { minLength: 1, maxLength: 4 }), fc.constantFrom('&', ';', ' ', ','), fc.constantFrom(...PLACES), (params, separator, place) => {
        const text = place(params.join(separator));
        expect(scrubText(text)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  // A word of any characters a one-word value may hold (`:`, `/`, `=`, `.`, `@`-free), after a marker.
  const word = fc.stringMatching(/^[A-Za-z0-9%._~+/=:-]{0,24}$/).map((rest) => `Qv9${rest}`);
  const prefix = fc.constantFrom('Error', 'request failed', 'msg', 'invalid header', 'headers', 'TypeError', 'warn');

  it('masks a secret after another name:, in escaped JSON and in arrays (review rvm2)', () => {
    const forms: ReadonlyArray<(p: string, n: string, v: string) => [string, string]> = [
      (p, n, v) => [`${p}: ${n}: ${v}`, `${p}: ${n}: [redacted]`],
      (p, n, v) => [`${p}: ${n}: Bearer ${v} ${v}`, `${p}: ${n}: [redacted]`],
      (_, n, v) => [String.raw`{"body":"{\"a\":1,\"${n}\":\"${v}\",\"b\":2}"}`, String.raw`{"body":"{\"a\":1,\"${n}\":\"[redacted]\",\"b\":2}"}`],
      (_, n, v) => [`{"${n}":["${v}","${v},]x"],"b":2}`, `{"${n}":[redacted],"b":2}`],
      (_, n, v) => [`{"${n}":{"u":"${v}","p":["${v}"]},"b":2}`, `{"${n}":[redacted],"b":2}`],
    ];
    fc.assert(
      fc.property(prefix, secretName, word, fc.constantFrom(...forms), (p, name, secret, form) => {
        const [text, expected] = form(p, name, secret);
        expect(scrubText(text)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps error lines and prose with colons made of names that are not secret (review rvm2)', () => {
    const errorName = fc.constantFrom('SignatureDoesNotMatch', 'ExpiredTokenException', 'CredentialsProviderError', 'TokenExpiredError', 'InvalidSignatureException', 'Error', 'AuthFailed');
    const prose = fc.array(fc.constantFrom('the', 'request', 'signature', 'token', 'expired', 'could', 'not', 'load', 'credentials', 'from', 'providers', 'password', 'is', 'now'), { minLength: 1, maxLength: 8 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(errorName, prose, fc.constantFrom(...KEPT_NAMES), word, (name, text, kept, v) => {
        for (const line of [`${name}: ${text}`, `${name}: ${kept}: ${v}`, `${kept}: ${name}: ${text}`]) expect(scrubText(line)).toBe(line);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent: scrubText of its own output changes nothing (review rvm2)', () => {
    const piece = fc.constantFrom('password', 'token', 'Authorization', 'msg', 'Error', ':', ': ', '=', '"', '\\"', "'", '[', ']', '{', '}', ',', ' ', '\n', 'abc', 'Bearer ', '[redacted]', '&', '?', 'x://u:p@h', '\\');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const once = scrubText(pieces.join(''));
        expect(scrubText(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });

  it('never keeps a URL password holding unencoded #, /, ? or @, wherever the URL stands (s55)', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9#/?@!$%&*()_+=.~-]{0,24}$/).map((rest) => `Qv9${rest}`);
    const user = fc.stringMatching(/^[a-z]{0,8}$/);
    const scheme = fc.constantFrom('redis', 'rediss', 'mongodb', 'mongodb+srv', 'postgres', 'amqp', 'https');
    const places: ReadonlyArray<(url: string) => string> = [
      (u) => `connect ECONNREFUSED ${u}`,
      (u) => `{"url":"${u}","mail":"a@b.example"}`,
      (u) => `nodes ${u},${u} down`,
      (u) => `Error: ${u}\nnext line`,
    ];
    fc.assert(
      fc.property(scheme, user, password, fc.constantFrom(...places), (s, u, p, place) => {
        const scrubbed = scrubText(place(`${s}://${u}:${p}@h.example:6379/0`));
        expect(scrubbed).not.toContain(p);
        expect(scrubbed).toBe(place(`${s}://[redacted]@h.example:6379/0`));
      }),
      { numRuns: 1000 },
    );
  });

  it('masks adversarial long inputs whole (each pattern reads its input once)', () => {
    const n = 50_000;
    expect(scrubText(`{"tokens":${'['.repeat(n)}"a"`)).toBe('{"tokens":[redacted]');
    expect(scrubText(`${'a: '.repeat(n)}password: x`)).toBe(`${'a: '.repeat(n)}password: [redacted]`);
    expect(scrubText(`{\\"password\\":\\"${'\\\\'.repeat(n)}x`)).toBe('{\\"password\\":[redacted]');
    expect(scrubText(`${'x='.repeat(n)}token=y`)).toBe(`${'x='.repeat(n)}token=[redacted]`);
  });
});
