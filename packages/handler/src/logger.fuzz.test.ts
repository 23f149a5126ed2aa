/**
 * Fuzz: header lists logged whole — Node's flat `rawHeaders` (`[name, value, name, value, …]`)
 * and `[name, value]` pairs (`[...fetchHeaders]`) — never keep the value of a secret header,
 * whatever its case; the other headers are written as they are.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-csrf-token', 'x-amz-security-token', 'x-functions-key', 'x-goog-iap-jwt-assertion', 'x-amzn-oidc-data', 'ocp-apim-subscription-key', 'x-hub-signature-256', 'authentication', 'x-jwt', 'x-sas'];
const KEPT_HEADERS = ['host', 'accept', 'content-type', 'user-agent', 'x-author-id', 'x-signal', 'x-design', 'x-request-id', 'x-forwarded-for'];

const cased = (name: string) => fc.constantFrom(name, name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()));
const header = (names: string[]) => fc.constantFrom(...names).chain(cased);
const secretValue = fc.string({ minLength: 0, maxLength: 16 }).map((rest) => `Qv9${rest}`);
// No letters: a random value cannot spell a secret name (`sig`, `x.jwt`) by chance.
const keptValue = fc.stringMatching(/^[0-9 ./;:-]{1,16}$/);

type Header = [name: string, value: string, secret: boolean];
const secretHeader = fc.tuple(header(SECRET_HEADERS), secretValue, fc.constant(true));

function logged(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  createLogger({}, (line) => lines.push(line), 'info').info('request', fields);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

const flat = (list: Header[]) => list.flatMap(([name, value]) => [name, value]);
const pairs = (list: Header[]) => list.map(([name, value]) => [name, value]);

describe('header lists in log fields (fuzz)', () => {
  it('mask the value of every secret header, flat or in pairs; keep the others', () => {
    const list = fc.array(fc.oneof(secretHeader, fc.tuple(header(KEPT_HEADERS), keptValue, fc.constant(false))), { maxLength: 8 });
    fc.assert(
      fc.property(list, (headers) => {
        const entry = logged({ rawHeaders: flat(headers), pairs: pairs(headers) });
        const expected = headers.map(([name, value, secret]) => [name, secret ? '[redacted]' : value]);
        expect(entry.rawHeaders).toEqual(expected.flat());
        expect(entry.pairs).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('never keep a secret value, even after a value that looks like a secret header name', () => {
    // A harmless header whose value is a secret header's name stands where a name would.
    const lookalike = fc.tuple(header(KEPT_HEADERS), header(SECRET_HEADERS), fc.constant(false));
    const list = fc.array(fc.oneof(secretHeader, lookalike, fc.tuple(header(KEPT_HEADERS), keptValue, fc.constant(false))), { maxLength: 8 });
    fc.assert(
      fc.property(list, (headers) => {
        const text = JSON.stringify(logged({ rawHeaders: flat(headers), pairs: pairs(headers) }));
        for (const [, value, secret] of headers) if (secret) expect(text).not.toContain(JSON.stringify(value).slice(1, -1));
      }),
      { numRuns: 500 },
    );
  });
});
