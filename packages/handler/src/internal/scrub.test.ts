import { describe, expect, it } from 'vitest';
import { errorFacts, scrubText } from './scrub.js';

describe('errorFacts', () => {
  it('an Error: its class name and code', () => {
    expect(errorFacts(Object.assign(new TypeError('m'), { code: 'E_X' }))).toEqual({ cause: 'TypeError', causeCode: 'E_X' });
  });

  it('a value that throws when read: its typeof only, never a throw', () => {
    const object = Proxy.revocable({}, {});
    const fn = Proxy.revocable(function thrower() {}, {});
    object.revoke();
    fn.revoke();
    const trap = new Proxy(new Error('x'), { get: () => { throw new Error('trap'); } });
    expect(errorFacts(object.proxy)).toEqual({ cause: 'object' });
    expect(errorFacts(fn.proxy)).toEqual({ cause: 'function' });
    expect(errorFacts(trap)).toEqual({ cause: 'object' });
  });
});

describe('scrubText: secret-named query parameters', () => {
  it('masks the values of secret-named query, fragment and form parameters, any case; keeps the others', () => {
    expect(scrubText('https://h/p?access_token=TOK1&sig=SIG1&page=2')).toBe('https://h/p?access_token=[redacted]&sig=[redacted]&page=2');
    expect(scrubText('calling https://h/p?access_token=TOK6 now')).toBe('calling https://h/p?access_token=[redacted] now');
    expect(scrubText('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ab12&X-Amz-Security-Token=FQo&X-Amz-Expires=60')).toBe(
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]&X-Amz-Expires=60',
    );
    expect(scrubText('https://storage.googleapis.com/b/o?X-Goog-Credential=sa%40p&X-Goog-Signature=99')).toBe('https://storage.googleapis.com/b/o?X-Goog-Credential=[redacted]&X-Goog-Signature=[redacted]');
    expect(scrubText('https://app/cb#id_token=eyJ.x.y&state=s1')).toBe('https://app/cb#id_token=[redacted]&state=s1');
    expect(scrubText('grant_type=authorization_code&code=C1&refresh_token=R1&client_secret=S1')).toBe('grant_type=authorization_code&code=[redacted]&refresh_token=[redacted]&client_secret=[redacted]');
    expect(scrubText('"https://h/?KEY=k1&ApiKey=k2&api_key=k3&token=t&password=p&secret=s&signature=g"')).toBe(
      '"https://h/?KEY=[redacted]&ApiKey=[redacted]&api_key=[redacted]&token=[redacted]&password=[redacted]&secret=[redacted]&signature=[redacted]"',
    );
  });

  it('masks Azure connection string keys, keeps their names', () => {
    expect(scrubText('Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=K1')).toBe('Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=[redacted]');
    expect(scrubText('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=K2==;EndpointSuffix=core.windows.net')).toBe('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[redacted];EndpointSuffix=core.windows.net');
  });

  it('keeps parameters whose names only contain a secret word, and text without parameters', () => {
    for (const text of ['https://h/p?monkey=1&keyboard=2&signal=3&postcode=4', 'status code 500', 'a=b', 'https://h/p?token=']) expect(scrubText(text)).toBe(text);
  });

  it('masks URL credentials and query secrets in the same text', () => {
    expect(scrubText('GET https://u:p@h/p?token=t')).toBe('GET https://[redacted]@h/p?token=[redacted]');
  });
});

describe('scrubText: common spellings of secret parameters (review rvm)', () => {
  it('masks parameters named by the field-name rule: any spelling of token, secret, jwt, assertion, …', () => {
    const names = ['auth_token', 'accessToken', 'apiToken', 'access-token', 'session_token', 'jwt', 'JWT', 'client_assertion', 'clientAssertion', 'passphrase', 'x-auth', 'sessionId', 'AccountKey', 'sharedAccessKey'];
    for (const [i, name] of names.entries()) {
      expect(scrubText(`https://h/p?page=2&${name}=V${i}x&b=1`)).toBe(`https://h/p?page=2&${name}=[redacted]&b=1`);
      expect(scrubText(`https://h/p?${name}=V${i}y`)).toBe(`https://h/p?${name}=[redacted]`);
    }
  });

  it('masks space-separated (libpq) and comma-separated (StackExchange.Redis) parameters', () => {
    expect(scrubText('connect failed: host=db user=app password=S1 dbname=orders')).toBe('connect failed: host=db user=app password=[redacted] dbname=orders');
    expect(scrubText('redis0:6380,password=S2,ssl=True,abortConnect=False')).toBe('redis0:6380,password=[redacted],ssl=True,abortConnect=False');
    // A comma inside a URL value that no parameter follows is part of the value.
    expect(scrubText('https://h/p?token=T1,T2&x=1')).toBe('https://h/p?token=[redacted]&x=1');
  });

  it("masks code and key only as URL parameters (after ?, & or #), not at the text's start or after a space", () => {
    expect(scrubText('https://app/cb?code=C2&state=s')).toBe('https://app/cb?code=[redacted]&state=s');
    expect(scrubText('https://app/cb#state=s&code=C3')).toBe('https://app/cb#state=s&code=[redacted]');
    expect(scrubText('https://maps/api?key=K4')).toBe('https://maps/api?key=[redacted]');
    for (const text of ['code=ECONNRESET while reading', 'key=orders/1 not found', 'failed with code=ETIMEDOUT', 'missing key=orders/2', 'redis0:6380,code=1']) expect(scrubText(text)).toBe(text);
  });

  it('keeps parameters whose names only contain a short secret word', () => {
    const text = 'https://h/p?author=a&signal=b&design=c&sigma=d&authorizer=e&oauthProvider=f&SharedAccessKeyName=g host=db sslmode=require';
    expect(scrubText(text)).toBe(text);
  });

  it('keeps parameters that describe a secret rather than hold it (a type, a name, a version)', () => {
    for (const text of ['set FUNCTION_SIGNATURE_TYPE=cloudevent or register main.gcpEvent', 'https://h/p?token_type=bearer&X-Amz-Signature-Version=4', 'secretName=prod/db']) expect(scrubText(text)).toBe(text);
  });
});
