import { describe, expect, it } from 'vitest';
import { createLogger, maskLogFields } from '../logger.js';
import { isSecretName, scrubText } from './scrub.js';

const logged = (msg: string, fields: Record<string, unknown>): Record<string, unknown> => {
  const lines: string[] = [];
  createLogger({}, (line) => lines.push(line), 'debug').info(msg, fields);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
};

// Review rvx (s54): the last-word rule kept every name ending in `tokens` (a counter in LLM usage
// fields), which showed lists of tokens again: Firebase Admin's `sendEachForMulticast({ tokens })`.
describe('a name ending in tokens is kept only after a counting word (review rvx)', () => {
  it('masks lists of tokens', () => {
    for (const name of ['tokens', 'refreshTokens', 'accessTokens', 'refresh_tokens', 'deviceTokens', 'registration_tokens', 'TOKENS']) expect([name, isSecretName(name)]).toEqual([name, true]);
    const masked = maskLogFields({ tokens: ['ya29.a0AfH6', '1//0gRefresh'], refreshTokens: ['r1'] });
    expect(masked).toEqual({ tokens: '[redacted]', refreshTokens: '[redacted]' });
  });

  it('keeps a number under a tokens name: a count, never a token', () => {
    expect(maskLogFields({ tokens: 3, refillTokens: 10, refreshTokens: '3' })).toEqual({ tokens: 3, refillTokens: 10, refreshTokens: '[redacted]' });
  });

  it('keeps token counts: a counting word before tokens', () => {
    const counts = ['max_tokens', 'maxTokens', 'promptTokens', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'input_tokens', 'output_tokens', 'num_tokens', 'max_output_tokens', 'maxOutputTokens', 'cached_tokens', 'reasoning_tokens', 'cache_read_input_tokens', 'tokens_used'];
    for (const name of counts) expect([name, isSecretName(name)]).toEqual([name, false]);
    expect(logged('usage', { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 })).toMatchObject({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 });
  });
});

describe('secret and harmless names the rule got wrong (review rvx)', () => {
  it('masks keys named for what they do and passcodes', () => {
    for (const name of ['masterKey', 'primaryKey', 'secondaryKey', 'primary_key', 'encryptionKey', 'signingKey', 'hmacKey', 'HMAC_KEY', 'SSECustomerKey', 'x-amz-server-side-encryption-customer-key', 'passcode', 'PASSCODE']) {
      expect([name, isSecretName(name)]).toEqual([name, true]);
    }
    const entry = logged('cosmos', { masterKey: 'C2y6yDjf5', SSECustomerKey: 'a2V5', passcode: '492817' });
    expect(JSON.stringify(entry)).not.toMatch(/C2y6yDjf5|a2V5|492817/);
  });

  it('keeps names that only sit next to a secret word', () => {
    for (const name of ['authSource', 'authMechanism', 'auth_time', 'authTime', 'token_use', 'tokenUse', 'tokenizer', 'tokenizerPath', 'cookieConsent', 'primaryKeyName', 'signingKeyId', 'encryptionKeyArn']) expect([name, isSecretName(name)]).toEqual([name, false]);
    expect(scrubText('mongodb://db:27017/app?authSource=admin&authMechanism=SCRAM-SHA-256')).toBe('mongodb://db:27017/app?authSource=admin&authMechanism=SCRAM-SHA-256');
    expect(logged('claims', { auth_time: 1733600000, token_use: 'access', tokenizer: 'cl100k_base', cookieConsent: 'all' })).toMatchObject({ auth_time: 1733600000, token_use: 'access', tokenizer: 'cl100k_base', cookieConsent: 'all' });
  });
});

describe('scrubText: quoted values, JSON text, header lines, spaces around = (review rvx)', () => {
  it('masks a libpq quoted value, spaces and escaped quotes included', () => {
    expect(scrubText("host=db password='s3cr3t word' dbname=app")).toBe("host=db password='[redacted]' dbname=app");
    expect(scrubText("host=db password='it\\'s me' user=app")).toBe("host=db password='[redacted]' user=app");
    expect(scrubText('host=db password="two words" user=app')).toBe('host=db password="[redacted]" user=app');
    // An unterminated quote hides the rest of the line.
    expect(scrubText("host=db password='s3cr3t word\nnext")).toBe("host=db password=[redacted]\nnext");
  });

  it('masks secret-named members of JSON text, keeps the others', () => {
    expect(scrubText('body {"user":"ann","password":"hunter2"}')).toBe('body {"user":"ann","password":"[redacted]"}');
    expect(scrubText('{"access_token" : "eyJ\\"x", "expires_in": 3600, "pin": 1}')).toBe('{"access_token" : "[redacted]", "expires_in": 3600, "pin": 1}');
    expect(scrubText('{"passcode":123456,"n":2}')).toBe('{"passcode":[redacted],"n":2}');
    expect(scrubText("{ password: 'hunter2', user: 'ann' }")).toBe("{ password: '[redacted]', user: 'ann' }");
  });

  it('masks header lines to the end of the line', () => {
    expect(scrubText('GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc.def\r\nAccept: */*')).toBe('GET / HTTP/1.1\r\nHost: h\r\nAuthorization: [redacted]\r\nAccept: */*');
    expect(scrubText('x-api-key:K1\nProxy-Authorization: Basic dTpw')).toBe('x-api-key:[redacted]\nProxy-Authorization: [redacted]');
    expect(scrubText('Cookie: sid=1; theme=dark')).toBe('Cookie: [redacted]');
  });

  it('masks password = x and password: x; inside a line one word, or the rest after an auth scheme', () => {
    expect(scrubText('login failed, password = hunter2 for app')).toBe('login failed, password = [redacted] for app');
    expect(scrubText('config password: hunter2')).toBe('config password: [redacted]');
    expect(scrubText("Access denied for user 'app' (using password: hunter2) at db")).toBe("Access denied for user 'app' (using password: [redacted]) at db");
    expect(scrubText('sent Authorization: Bearer abc.def to api')).toBe('sent Authorization: [redacted]');
    expect(scrubText('rejected credentials: expired, retrying')).toBe('rejected credentials: [redacted], retrying');
    // Already masked text stays as it is.
    for (const text of ['Authorization: [redacted]', 'x password: [redacted] y', "password='[redacted]'"]) expect(scrubText(text)).toBe(text);
  });

  it('keeps ordinary name: value text, code and key outside a URL, and times', () => {
    for (const text of ['code: ECONNRESET', 'key: orders/1', 'Error: connect ECONNREFUSED 127.0.0.1:6379', 'at 12:30:00 host: db', '{"user":"ann","n":1}', 'tokens_used: 512', 'authSource: admin']) expect(scrubText(text)).toBe(text);
  });

  it('masks a message and an Error message the same way', () => {
    const entry = logged('sent {"password":"hunter2"}', { err: new Error('Authorization: Bearer abc.def') });
    expect(JSON.stringify(entry)).not.toMatch(/hunter2|abc\.def/);
  });

  it('masks the secret in a Slack or Discord webhook URL path', () => {
    expect(scrubText('POST https://hooks.slack.com/services/T0001/B0002/XXXXsecret failed')).toBe('POST https://hooks.slack.com/services/[redacted] failed');
    expect(scrubText('https://discord.com/api/webhooks/123/tok-EN_x?wait=true')).toBe('https://discord.com/api/webhooks/[redacted]?wait=true');
  });
});
