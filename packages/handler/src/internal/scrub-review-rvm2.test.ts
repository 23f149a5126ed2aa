import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { isSecretName, scrubText } from './scrub.js';

const logLine = (msg: string, fields?: Record<string, unknown>): string => {
  const lines: string[] = [];
  createLogger({}, (line) => lines.push(line), 'info').info(msg, fields);
  return lines[0]!;
};

// Review rvm2 (s54) of the masking merge: secrets scrubText missed, and harmless lines it ate.
describe('scrubText: a secret after another name: on the line (review rvm2)', () => {
  it('reads a secret name in the value of a name that is not secret', () => {
    expect(scrubText('Error: password: hunter2')).toBe('Error: password: [redacted]');
    expect(scrubText('msg: token: abc')).toBe('msg: token: [redacted]');
    expect(scrubText('invalid header: x-api-key: k123')).toBe('invalid header: x-api-key: [redacted]');
    expect(scrubText('headers: Authorization: Bearer abc')).toBe('headers: Authorization: [redacted]');
    expect(scrubText('redirect=https://app.example/cb?access_token=abc')).toBe('redirect=https://app.example/cb?access_token=[redacted]');
    const line = logLine('request failed: Authorization: Bearer abc.def');
    expect(line).not.toContain('abc.def');
    expect(line).toContain('request failed: Authorization: [redacted]');
  });

  it('passes over a name:value word with no space (an ARN, host:port)', () => {
    for (const text of ['secretArn=arn:aws:secretsmanager:us-east-1:1:secret:db', 'connect ECONNREFUSED 127.0.0.1:6379', 'at 12:30:00 host: db']) expect(scrubText(text)).toBe(text);
  });
});

describe('scrubText: JSON escaped inside a string, arrays and objects (review rvm2)', () => {
  it('masks members of JSON inside a JSON string, escaped once or twice (an SNS envelope in an SQS body)', () => {
    const body = JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ password: 'hunter2', user: 'ann' }) });
    const line = logLine('received', { body });
    expect(line).not.toContain('hunter2');
    expect(line).toContain('ann');
    expect(scrubText(JSON.stringify({ body: JSON.stringify({ password: 'hunter2' }) }))).toBe(String.raw`{"body":"{\"password\":\"[redacted]\"}"}`);
  });

  it('masks every element of a secret array and all of a secret object', () => {
    expect(scrubText('{"tokens":["fcm-tok-1","fcm-tok-2"],"n":2}')).toBe('{"tokens":[redacted],"n":2}');
    expect(scrubText('{"credentials":{"user":"a","pass":"b,c]"},"n":2}')).toBe('{"credentials":[redacted],"n":2}');
    const line = logLine('sent', { body: '{"tokens":["fcm-tok-1","fcm-tok-2"]}' });
    expect(line).not.toContain('fcm-tok');
    expect(scrubText(String.raw`{\"tokens\":[\"t-1\",\"t-2\"]}`)).toBe(String.raw`{\"tokens\":[redacted]}`);
    expect(scrubText("{ tokens: ['t-1', 't-2'], n: 2 }")).toBe('{ tokens: [redacted], n: 2 }');
  });

  it('is idempotent: its own output is returned unchanged', () => {
    for (const text of ['{"password": abc}', '{"password":"x"}', '{"tokens":["a","b"]}', 'password=x', 'Authorization: Bearer a.b', String.raw`{\"password\":\"x\"}`]) {
      const once = scrubText(text);
      expect(scrubText(once)).toBe(once);
    }
    expect(scrubText('{"password": abc}')).toBe('{"password": [redacted]}');
  });
});

describe('scrubText: error names and header lines (review rvm2)', () => {
  it('keeps the message of an error whose class name holds a secret word', () => {
    const texts = [
      'SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided',
      'ExpiredTokenException: The security token included in the request is expired',
      'CredentialsProviderError: Could not load credentials from any providers',
      'InvalidSignatureException: Signature expired: 20250101T000000Z is now earlier than 20250101T000500Z',
      'TokenExpiredError: jwt expired',
    ];
    for (const text of texts) expect(scrubText(text)).toBe(text);
    for (const name of ['SignatureDoesNotMatch', 'ExpiredTokenException', 'CredentialsProviderError', 'TokenExpiredError', 'AuthFailed']) expect([name, isSecretName(name)]).toEqual([name, false]);
  });

  it('masks a header line to its end for a credential header or a secret that may hold spaces', () => {
    expect(scrubText('Cookie: a=1; b=2')).toBe('Cookie: [redacted]');
    expect(scrubText('X-Api-Key: k 1')).toBe('X-Api-Key: [redacted]');
    // A secret that may hold spaces at the start of a line masks the whole line (review rvm4): a multi-word secret is not cut at its first space.
    expect(scrubText('Password: 3 open, 1 idle')).toBe('Password: [redacted]');
    // A session id is one word: prose after it is kept (s55).
    expect(scrubText('Session: 3 open, 1 idle')).toBe('Session: [redacted] open, 1 idle');
    expect(scrubText('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: [redacted]');
  });

  it('masks an auth scheme and its credentials after =', () => {
    expect(scrubText('Authorization=Bearer abc.def')).toBe('Authorization=[redacted]');
    expect(scrubText('authorization=Basic dXNlcjpwYXNz&x=1')).toBe('authorization=[redacted]&x=1');
  });
});
