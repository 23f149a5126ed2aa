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
    expect(scrubText('code=C1&refresh_token=R1&client_secret=S1')).toBe('code=[redacted]&refresh_token=[redacted]&client_secret=[redacted]');
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
