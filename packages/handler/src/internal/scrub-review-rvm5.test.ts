import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { scrubText } from './scrub.js';
import { isOneWordSecretName } from './secret-name.js';

// s55-fxt (reviews rvm, rvx of wt/fxs): a line that opens with a secret name masks to its end
// unless the name's value is one token; digit passwords before `/` or `?`; a `]` or `'` that cut
// a value or a URL short; an escaped value ending in `\`.
describe('scrubText: a secret at the start of a line masks to its end by default', () => {
  it('masks a multi-word value under any secret name but the one-token ones', () => {
    const cases: Array<[string, string]> = [
      ['JWT_SIGNING_KEY: -----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEAx\\n-----END RSA PRIVATE KEY-----', 'JWT_SIGNING_KEY: [redacted]'],
      ['credentials: admin hunter2', 'credentials: [redacted]'],
      ['credential: AKIA1234 wJalrXUtnFEMI', 'credential: [redacted]'],
      ['encryption_key: k1 k2', 'encryption_key: [redacted]'],
      ['master_key: k1 k2', 'master_key: [redacted]'],
      ['authentication: admin hunter2', 'authentication: [redacted]'],
      ['X-Auth: admin hunter2', 'X-Auth: [redacted]'],
      ['whisk_auth: a:b c', 'whisk_auth: [redacted]'],
      ['cookies: sid=abc; uid=xyz', 'cookies: [redacted]'],
      ['api_key: Bearer abc def', 'api_key: [redacted]'],
      ['  session_token: abc def\nuser: ann', '  session_token: [redacted]\nuser: ann'],
    ];
    for (const [text, expected] of cases) expect([text, scrubText(text)]).toEqual([text, expected]);
  });

  it('keeps the prose after a one-token secret, unless its value opens a PEM block', () => {
    expect(scrubText('Session: started for user 42')).toBe('Session: [redacted] for user 42');
    expect(scrubText('auth: ok, user=42')).toBe('auth: [redacted], user=42');
    expect(scrubText('sessionId: s-1 expired')).toBe('sessionId: [redacted] expired');
    expect(scrubText('sig: abc def')).toBe('sig: [redacted] def');
    expect(scrubText('token: -----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----')).toBe('token: [redacted]');
    expect(scrubText('Error: private_key: -----BEGIN RSA PRIVATE KEY-----\\nMIIE x')).toBe('Error: private_key: [redacted]');
    expect(scrubText('private_key=-----BEGIN RSA PRIVATE KEY-----\\nMIIE x')).toBe('private_key=[redacted]');
    for (const name of ['token', 'Session', 'SESSION_ID', 'sessionId', 'auth', 'signature', 'sig']) expect([name, isOneWordSecretName(name)]).toEqual([name, true]);
    for (const name of ['credentials', 'session_token', 'api_key', 'X-Auth', 'signatureVersion', 'author']) expect([name, isOneWordSecretName(name)]).toEqual([name, false]);
  });

  it('logs a credentials line without its value', () => {
    const lines: string[] = [];
    createLogger({}, (line) => lines.push(line), 'info').info('credentials: admin hunter2');
    expect(JSON.parse(lines[0]!).msg).toBe('credentials: [redacted]');
  });
});

describe('scrubText: a digit password before / or ? is not a port', () => {
  it('masks through the @ that follows in the same segment', () => {
    expect(scrubText('postgres://app:2024/Secret@db:5432/x')).toBe('postgres://[redacted]@db:5432/x');
    expect(scrubText('amqp://u:2024?x@mq')).toBe('amqp://[redacted]@mq');
    expect(scrubText('mongodb://u:99/a@h/db')).toBe('mongodb://[redacted]@h/db');
  });

  it('keeps a port followed by a path or query holding an @ further on', () => {
    for (const text of ['GET http://localhost:3000/users/a@b.example', 'http://h:8080/cb?email=a@b.example', 'mongodb://h1:27017,h2:27017/db?x=a@b']) expect(scrubText(text)).toBe(text);
  });
});

describe('scrubText: stray ] and \' (s55-fxt)', () => {
  it('reads a value over an embedded [redacted]', () => {
    expect(scrubText('Error: sas_token: ?sv=2020&sig=abc def')).toBe('Error: sas_token: [redacted] def');
    expect(scrubText('sas_token: ?sv=2020&sig=abc def')).toBe('sas_token: [redacted]');
  });

  it("ends a URL at '", () => {
    expect(scrubText("['https://u:p@h/x','a@b.com']")).toBe("['https://[redacted]@h/x','a@b.com']");
  });
});

describe('scrubText: an escaped value ending in a backslash', () => {
  it('closes at the escaped quote after an escaped backslash and keeps the next field', () => {
    expect(scrubText(String.raw`{\"password\":\"pw\\\\\",\"user\":\"ann\"}`)).toBe(String.raw`{\"password\":\"[redacted]\",\"user\":\"ann\"}`);
    expect(scrubText(String.raw`{\"password\":\"p\\\"w\",\"user\":\"ann\"}`)).toBe(String.raw`{\"password\":\"[redacted]\",\"user\":\"ann\"}`);
    expect(scrubText(String.raw`{\\\"password\\\":\\\"pw\\\\\\\\\\\",\\\"user\\\":\\\"ann\\\"}`)).toBe(String.raw`{\\\"password\\\":\\\"[redacted]\\\",\\\"user\\\":\\\"ann\\\"}`);
  });

  it('reads long inputs once', () => {
    const n = 100_000;
    for (const text of [`Error: token: ${'[redacted]x'.repeat(n / 10)}`, `${'x://u:1/'.repeat(n / 8)}`, `x://u:1/${'a'.repeat(n)}`, `{\\"password\\":\\"${'\\\\\\\\\\"'.repeat(n / 6)}`, `a: ${'-----BEGIN '.repeat(n / 11)}`]) {
      const once = scrubText(text);
      expect(scrubText(once)).toBe(once);
    }
  });
});
