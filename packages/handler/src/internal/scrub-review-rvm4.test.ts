import { describe, expect, it } from 'vitest';
import { scrubText } from './scrub.js';

// Review rvm4 (s54) of scrubText: a secret-named line masked to its first space, escaped JSON
// whose secret holds a quote, `name=\"…\"` inside a JSON string, a quadratic URL scan.
describe('scrubText: a secret-named line is masked to its end (review rvm4)', () => {
  it('masks the whole value of any secret name at the start of a line', () => {
    expect(scrubText('password: correct horse battery staple')).toBe('password: [redacted]');
    expect(scrubText('spring.datasource.password: my pass phrase')).toBe('spring.datasource.password: [redacted]');
    expect(scrubText('DB_PASSWORD: p w')).toBe('DB_PASSWORD: [redacted]');
    expect(scrubText('client_secret: abc def')).toBe('client_secret: [redacted]');
    expect(scrubText('user: ann\n  passphrase: two words here\nhost: db')).toBe('user: ann\n  passphrase: [redacted]\nhost: db');
  });

  it('keeps error lines and a one-word value inside a line', () => {
    expect(scrubText('TokenExpiredError: jwt expired')).toBe('TokenExpiredError: jwt expired');
    expect(scrubText('SignatureDoesNotMatch: The request signature we calculated does not match')).toBe('SignatureDoesNotMatch: The request signature we calculated does not match');
    expect(scrubText('Error: password: hunter2 rejected by db')).toBe('Error: password: [redacted] rejected by db');
    expect(scrubText(scrubText('password: a b c'))).toBe('password: [redacted]');
  });
});

describe('scrubText: escaped JSON whose secret holds a quote (review rvm4)', () => {
  it('reads a longer backslash run before a quote as value text', () => {
    const once = scrubText(JSON.stringify({ body: JSON.stringify({ password: 'p"w d secretword', user: 'ann' }) }));
    expect(once).not.toContain('secretword');
    expect(once).toBe(String.raw`{"body":"{\"password\":\"[redacted]\",\"user\":\"ann\"}"}`);
    const sns = JSON.stringify({ Message: JSON.stringify({ body: JSON.stringify({ password: 'p"w d secretword', user: 'ann' }) }) });
    const twice = scrubText(sns);
    expect(twice).not.toContain('secretword');
    expect(twice).toContain(String.raw`\\\"password\\\":\\\"[redacted]\\\"`);
    expect(twice).toContain('ann');
  });

  it('still closes at the matching run (a backslash in the secret, an empty value)', () => {
    expect(scrubText(JSON.stringify({ body: JSON.stringify({ password: 'a\\b secretword', user: 'ann' }) }))).toBe(String.raw`{"body":"{\"password\":\"[redacted]\",\"user\":\"ann\"}"}`);
    expect(scrubText(JSON.stringify({ body: JSON.stringify({ password: '', user: 'ann' }) }))).toBe(String.raw`{"body":"{\"password\":\"[redacted]\",\"user\":\"ann\"}"}`);
  });
});

describe('scrubText: name=\\"…\\" and name: \\"…\\" inside a JSON string (review rvm4)', () => {
  it('masks the whole escaped-quoted value', () => {
    const cmd = scrubText(JSON.stringify({ cmd: 'mysql -u root --password="p w secretword"' }));
    expect(cmd).not.toContain('secretword');
    expect(cmd).toBe(String.raw`{"cmd":"mysql -u root --password=\"[redacted]\""}`);
    const body = scrubText(JSON.stringify({ body: 'password: "p w secretword"' }));
    expect(body).not.toContain('secretword');
    expect(body).toBe(String.raw`{"body":"password: \"[redacted]\""}`);
    const dsn = scrubText(String.raw`{"dsn":"host=db user=app password=\"hunter2\""}`);
    expect(dsn).toBe(String.raw`{"dsn":"host=db user=app password=\"[redacted]\""}`);
  });
});

describe('scrubText: URL credentials in linear time (review rvm4)', () => {
  // Quadratic before (~7 s for 100 000 characters, over a minute here): the test's timeout fails it.
  it('returns a long word before @ unchanged', () => {
    const text = `user ${'a'.repeat(300_000)}@example.com`;
    expect(scrubText(text)).toBe(text);
    expect(scrubText(`${'a'.repeat(100_000)}://u:p@h`)).toBe(`${'a'.repeat(100_000)}://[redacted]@h`);
  });

  it('still masks the userinfo of a URL', () => {
    expect(scrubText('mongodb://u:p@h')).toBe('mongodb://[redacted]@h');
    expect(scrubText('x://a@b')).toBe('x://[redacted]@b');
    expect(scrubText('jdbc:postgresql://u:p@h/db')).toBe('jdbc:postgresql://[redacted]@h/db');
  });
});
