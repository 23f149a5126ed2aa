import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { isSecretName, scrubText } from './scrub.js';

// Review rvm2: the field-name rule matched a secret word anywhere in a name, so ordinary
// counters and settings (`tokens_used`, `passwordPolicy`, `secretArn`) were masked. A name is
// secret when its last word is a secret word. Review rvm3: that unmasked real secrets whose last
// word is something else (`SecretString` of a GetSecretValue response, `password1`, `JSESSIONID`):
// a name holding a secret word is secret unless its last word says it is about the secret (a
// counter, a limit, a policy, a time, a place).
const ORDINARY = ['tokenCount', 'sessionCount', 'signatureValid', 'credentialScope', 'cookieDomain', 'passwordLastChanged', 'tokens_used', 'max_tokens', 'passwordPolicy', 'secretArn', 'tokenExpiresAt'];
const SECRET = ['X-Amz-Credential', 'X-Amz-Signature', 'AccountKey', 'SharedAccessKey', 'apikey', 'x-api-key', 'sig', 'client_secret', 'access_token', 'refresh_token', 'id_token', 'authorization', 'cookie', 'set-cookie', 'jwt', 'sas', 'passphrase', 'assertion', 'client_assertion', 'credential', 'credentials', 'signature', 'auth', 'authentication', 'session', 'sessionId', 'session_id', 'session_token', 'password', 'passwd', 'pwd', 'pass', 'db_pass', 'x-hub-signature-256', 'AWS_SECRET_ACCESS_KEY'];
const SECRET_OTHER_LAST_WORD = ['SecretString', 'SecretBinary', 'password1', 'password2', 'password_confirmation', 'passwordHash', 'JSESSIONID', 'jsessionid', 'private_key_pem', 'privateKeyPem', 'clientSecretValue', 'access_token_value', 'refreshTokenValue', 'cookieHeader', 'auth_header', 'authorizationHeader', 'credentialsJson', 'x-amzn-oidc-data', 'sasUrl'];

describe('a name is secret when its last word is a secret word (review rvm2)', () => {
  it('keeps ordinary names that contain a secret word', () => {
    for (const name of ORDINARY) expect([name, isSecretName(name)]).toEqual([name, false]);
  });

  it('masks names whose last word is a secret word', () => {
    for (const name of SECRET) expect([name, isSecretName(name)]).toEqual([name, true]);
  });

  it('masks names holding a secret word whatever their last word, unless it says what the name is about (review rvm3)', () => {
    for (const name of SECRET_OTHER_LAST_WORD) expect([name, isSecretName(name)]).toEqual([name, true]);
    expect(scrubText('GET /cart;jsessionid=ABC?x=1 password1=p')).toBe('GET /cart;jsessionid=[redacted] password1=[redacted]');
    const lines: string[] = [];
    createLogger({}, (line) => lines.push(line), 'debug').info('secret read', { SecretString: '{"db":"hunter2"}', Name: 'prod/db' });
    expect(lines[0]).not.toContain('hunter2');
    expect(JSON.parse(lines[0]!).Name).toBe('prod/db');
  });

  it('keeps ordinary name=value text and masks a session id in text', () => {
    const text = 'tokens_used=512 max_tokens=1024 passwordPolicy=strict tokenExpiresAt=2026 secretArn=arn:aws:secretsmanager:x';
    expect(scrubText(text)).toBe(text);
    expect(scrubText('GET /p?sessionId=S1&password=P1&page=2')).toBe('GET /p?sessionId=[redacted]&password=[redacted]&page=2');
  });

  it('logs ordinary fields as they are and masks a session id field', () => {
    const lines: string[] = [];
    const fields = Object.fromEntries(ORDINARY.map((name, index) => [name, `v${index}`]));
    createLogger({}, (line) => lines.push(line), 'debug').info('usage', { ...fields, sessionId: 'S-9' });
    const entry = JSON.parse(lines[0]!);
    for (const [name, value] of Object.entries(fields)) expect(entry[name]).toBe(value);
    expect(entry.sessionId).toBe('[redacted]');
  });
});
