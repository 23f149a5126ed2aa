import { describe, expect, it } from 'vitest';
import { scrubText } from './scrub.js';

// s55: the four gaps scrubText was left with — URL passwords holding an unencoded `#`, `/` or `?`,
// ODBC / ADO.NET braced values, and a line that opens with `auth:`, `token:` or `Session:`
// masked to its end although only a word could be the credential.
describe('scrubText: URL passwords holding an unencoded #, / or ? (s55)', () => {
  it('masks the userinfo through the last @ before the host', () => {
    expect(scrubText('redis://user:pa#ss@host:6379')).toBe('redis://[redacted]@host:6379');
    expect(scrubText('mongodb://u:p/w?x@h/db')).toBe('mongodb://[redacted]@h/db');
    expect(scrubText('postgres://u:a?b@h')).toBe('postgres://[redacted]@h');
    expect(scrubText('connect ECONNREFUSED redis://:pa#ss@cache:6379 (retrying)')).toBe('connect ECONNREFUSED redis://[redacted]@cache:6379 (retrying)');
    expect(scrubText('mongodb+srv://app:p@ss#w/rd@cluster0.example.net/db?retryWrites=true')).toBe('mongodb+srv://[redacted]@cluster0.example.net/db?retryWrites=true');
    expect(scrubText('amqp://u:2024#Secret@mq:5672')).toBe('amqp://[redacted]@mq:5672');
  });

  it('keeps the host of each URL in a list or a JSON text', () => {
    expect(scrubText('nodes redis://u:p#1@h1:6379,redis://v:q#2@h2:6379 down')).toBe('nodes redis://[redacted]@h1:6379,redis://[redacted]@h2:6379 down');
    expect(scrubText('{"url":"redis://u:p#1@h","mail":"a@b.example"}')).toBe('{"url":"redis://[redacted]@h","mail":"a@b.example"}');
  });

  it('keeps URLs without a password: an @ after a port or in a path, query or fragment', () => {
    for (const text of ['GET http://localhost:3000/users/a@b.example', 'http://h:8080/cb?email=a@b.example', 'https://h/p?e=a@b.example', 'see https://h/x#a@b', 'mongodb://h1:27017,h2:27017/db?x=a@b']) {
      expect(scrubText(text)).toBe(text);
    }
  });

  it('reads an @ in the path or query of a URL with a password as the password\'s: the safe side', () => {
    // `p@ss#w` cannot be told from a password `p` and a host `ss` with a fragment: it must not show `ss#w`.
    expect(scrubText('redis://u:p@ss#w@host')).toBe('redis://[redacted]@host');
    expect(scrubText('redis://u:p@h/0?x=a@b')).toBe('redis://[redacted]@b');
    expect(scrubText('https://user@h/p?e=a@b')).toBe('https://[redacted]@h/p?e=a@b');
  });

  it('is idempotent and reads each long input once', () => {
    for (const text of ['redis://u:p#x@h', 'x://u:p#q&password=\'a b\'@c', 'x://u:p#x://v:q@h']) {
      const once = scrubText(text);
      expect(scrubText(once)).toBe(once);
    }
    const n = 20_000;
    expect(scrubText('a://u:x#'.repeat(n))).toBe('a://u:x#'.repeat(n));
    expect(scrubText(`${'a://u:x#'.repeat(n)}@h`)).toBe(`${'a://u:x#'.repeat(n - 1)}a://[redacted]@h`);
    expect(scrubText(`x://u:${'#'.repeat(100_000)}`)).toBe(`x://u:${'#'.repeat(100_000)}`);
  });
});
