import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
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

describe('scrubText: ODBC / ADO.NET braced values (s55)', () => {
  it('masks the whole braced value, }} an escaped }', () => {
    expect(scrubText('Server=x;Password={p;w}}rd};User Id=u')).toBe('Server=x;Password=[redacted];User Id=u');
    expect(scrubText('Driver={ODBC Driver 18 for SQL Server};Server=x;PWD={a}}b;c};UID=u')).toBe('Driver={ODBC Driver 18 for SQL Server};Server=x;PWD=[redacted];UID=u');
    expect(scrubText("Server=x;Password={it's; me} ;Database=d")).toBe('Server=x;Password=[redacted] ;Database=d');
    expect(scrubText('Pwd={abc}')).toBe('Pwd=[redacted]');
  });

  it('masks what follows a close typed without its escape, up to the next ;', () => {
    expect(scrubText('Server=x;Password={p;w}rd};User Id=u')).toBe('Server=x;Password=[redacted];User Id=u');
    // Left open: to its JSON close, which may be on a later line (pretty-printed JSON), else to the end.
    expect(scrubText('Server=x;Password={p;w')).toBe('Server=x;Password=[redacted]');
    expect(scrubText('token={\n  "a": {"b": 1}\n} next')).toBe('token=[redacted] next');
  });

  it('still masks a JSON object after = whole, and keeps the text after it', () => {
    expect(scrubText('token={"a":{"b":1},"c":"x"} next')).toBe('token=[redacted] next');
    expect(scrubText('token={"a":"}"}&page=2')).toBe('token=[redacted]&page=2');
  });

  it('reads each long input once', () => {
    const n = 20_000;
    expect(scrubText(`token={[}x ${'token={[}x '.repeat(n)}`)).toBe('token=[redacted]');
    expect(scrubText(`${'token={a}} '.repeat(n)}`)).toBe('token=[redacted]');
  });
});

describe('scrubText: a line that opens with a one-word secret keeps its prose (s55)', () => {
  it('masks one value after auth, token, session at the start of a line', () => {
    expect(scrubText('auth: ok, user=42')).toBe('auth: [redacted], user=42');
    expect(scrubText('Token: refresh scheduled in 5s')).toBe('Token: [redacted] scheduled in 5s');
    expect(scrubText('Session: started for user 42')).toBe('Session: [redacted] for user 42');
    expect(scrubText('session_id: s-81 expired\nuser: ann')).toBe('session_id: [redacted] expired\nuser: ann');
    expect(scrubText('retrying after token: refresh scheduled in 5s')).toBe('retrying after token: [redacted] scheduled in 5s');
  });

  it('still masks to the end of the line a credential header, an auth scheme and a secret that may hold spaces', () => {
    expect(scrubText('Set-Cookie: sid=abc; Path=/; HttpOnly')).toBe('Set-Cookie: [redacted]');
    expect(scrubText('token: Bearer abc def')).toBe('token: [redacted]');
    expect(scrubText('Session: Bearer abc def')).toBe('Session: [redacted]');
    expect(scrubText('private_key: -----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----')).toBe('private_key: [redacted]');
    expect(scrubText('db_pass: two words\nSECRET: a b')).toBe('db_pass: [redacted]\nSECRET: [redacted]');
    expect(scrubText('passwordPolicy: at least 12 characters')).toBe('passwordPolicy: at least 12 characters');
  });

  it('logs a session line with its prose', () => {
    const lines: string[] = [];
    createLogger({}, (line) => lines.push(line), 'info').info('Session: started for user 42');
    expect(JSON.parse(lines[0]!).msg).toBe('Session: [redacted] for user 42');
  });
});
