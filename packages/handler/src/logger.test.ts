import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('writes one JSON line with base fields, masks secret-looking keys, filters by level', () => {
    const lines: string[] = [];
    const log = createLogger({ fn: 'orders' }, (l) => lines.push(l), 'info').child({ requestId: 'r1' });
    log.debug('hidden');
    log.info('charged', { amount: 3, authorization: 'Bearer x', apiKey: 'k' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', msg: 'charged', fn: 'orders', requestId: 'r1', amount: 3, authorization: '[redacted]', apiKey: '[redacted]' });
  });
  it('survives values JSON cannot encode', () => {
    const lines: string[] = [];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    createLogger({}, (l) => lines.push(l), 'debug').warn('odd', { big: 10n, circular });
    expect(JSON.parse(lines[0]!)).toMatchObject({ big: '10', circular: { self: '[circular]' } });
  });
});

describe('masking at every depth (issue 9, item 9)', () => {
  it("masks request headers logged whole: ctx.log.info('request', { headers: ctx.trigger.request.headers })", async () => {
    const { handler } = await import('./index.js');
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l), logLevel: 'info' }, (_input, ctx) => {
      if (ctx.trigger.kind === 'http') ctx.log.info('request', { headers: ctx.trigger.request.headers });
      ctx.log.info('db', { db: { host: 'db.internal', password: 'hunter2', url: 'mongodb://app:s3cret@db.internal:27017/orders' } });
      return 'ok';
    });
    await main.aws(
      {
        version: '2.0',
        rawPath: '/orders',
        rawQueryString: '',
        headers: { authorization: 'Bearer eyJhbGciOi.secret', 'x-api-key': 'k-123456', cookie: 'sid=abc', 'proxy-authorization': 'Basic dXNlcjpwYXNz', accept: 'application/json' },
        requestContext: { http: { method: 'GET', path: '/orders' }, requestId: 'x', domainName: 'api.example.com' },
        isBase64Encoded: false,
      },
      { awsRequestId: 'r-1', functionName: 'orders', getRemainingTimeInMillis: () => 10_000 },
    );
    const text = lines.join('\n');
    for (const secret of ['eyJhbGciOi', 'k-123456', 'sid=abc', 'dXNlcjpwYXNz', 'hunter2', 's3cret', 'app:']) expect(text).not.toContain(secret);
    const [request, db] = lines.map((l) => JSON.parse(l));
    expect(request.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]', 'proxy-authorization': '[redacted]', accept: 'application/json' });
    expect(request).toMatchObject({ requestId: 'r-1', provider: 'aws' });
    expect(db.db).toEqual({ host: 'db.internal', password: '[redacted]', url: 'mongodb://[redacted]@db.internal:27017/orders' });
  });

  it("masks the providers' own auth headers: OpenWhisk's web action secret, Azure function keys, IAP and ALB assertions", () => {
    const lines: string[] = [];
    const headers = {
      'x-require-whisk-auth': 'ow-secret-1',
      'x-functions-key': 'az-key-2',
      'x-goog-iap-jwt-assertion': 'iap-jwt-3',
      'x-amzn-oidc-data': 'alb-jwt-4',
      author: 'Ada',
      'x-author-id': 'u-5',
    };
    createLogger({}, (l) => lines.push(l), 'info').info('request', { headers });
    const text = lines.join('\n');
    for (const secret of ['ow-secret-1', 'az-key-2', 'iap-jwt-3', 'alb-jwt-4']) expect(text).not.toContain(secret);
    // Names that only look alike stay readable.
    expect(JSON.parse(lines[0]!).headers).toMatchObject({ author: 'Ada', 'x-author-id': 'u-5' });
  });

  it('masks by name in arrays, maps and child fields, and credentials in URLs inside any string and the message', () => {
    const lines: string[] = [];
    const log = createLogger({}, (l) => lines.push(l), 'debug').child({ upstream: { token: 't-1' } });
    log.warn('retrying redis://:pw@cache:6379 after https://user:pa@ss@api.example.com/x failed', {
      attempts: [{ session: 's-1' }, { clientSecret: 'cs' }],
      headers: new Map([['Set-Cookie', 'a=1']]),
      note: 'see amqp://guest:guest@mq:5672 and mailto:ops@example.com',
      err: new Error('connect ECONNREFUSED postgres://svc:pgpass@pg:5432'),
      tokens: 3,
      deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 'too deep' } } } } } } } } },
    });
    const entry = JSON.parse(lines[0]!);
    expect(entry.msg).toBe('retrying redis://[redacted]@cache:6379 after https://[redacted]@api.example.com/x failed');
    expect(entry.upstream).toEqual({ token: '[redacted]' });
    expect(entry.attempts).toEqual([{ session: '[redacted]' }, { clientSecret: '[redacted]' }]);
    expect(entry.headers).toEqual({ 'Set-Cookie': '[redacted]' });
    expect(entry.note).toBe('see amqp://[redacted]@mq:5672 and mailto:ops@example.com');
    expect(entry.err).toEqual({ name: 'Error', message: 'connect ECONNREFUSED postgres://[redacted]@pg:5432' });
    expect(entry.tokens).toBe(3); // a number under `tokens` is a count, not a secret (reviews rvm2, rvx)
    expect(JSON.stringify(entry.deep)).toContain('[depth limit]');
    expect(lines[0]).not.toMatch(/pw@|pa@ss|guest:guest|pgpass|t-1|s-1|"cs"/);
  });
});

describe('secrets in URLs and under short secret names (review s52)', () => {
  it('masks query tokens in fields and in the message, and auth, pwd, sig, subscription keys by name', () => {
    const lines: string[] = [];
    const log = createLogger({}, (l) => lines.push(l), 'info');
    log.info('x', { url: 'https://h/p?access_token=TOK1&sig=SIG1', auth: 'user:PASS2', 'Ocp-Apim-Subscription-Key': 'KEY3', pwd: 'PWD4', nested: { 'x-auth': 'A5', basicAuth: 'A6', SIG: 'S7' } });
    log.info('calling https://h/p?access_token=TOK6');
    for (const secret of ['TOK1', 'SIG1', 'PASS2', 'KEY3', 'PWD4', 'A5', 'A6', 'S7', 'TOK6']) expect(lines.join('\n')).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ url: 'https://h/p?access_token=[redacted]&sig=[redacted]', auth: '[redacted]', 'Ocp-Apim-Subscription-Key': '[redacted]', pwd: '[redacted]' });
    expect(JSON.parse(lines[1]!).msg).toBe('calling https://h/p?access_token=[redacted]');
  });

  it('keeps fields whose names only contain a short secret word', () => {
    const lines: string[] = [];
    const fields = { author: 'a', authorizer: { claims: 'c' }, oauthProvider: 'o', signal: 'aborted', SIGNAL: 'TERM', design: 'd', signed: true, pwdLength: undefined };
    createLogger({}, (l) => lines.push(l), 'info').info('x', fields);
    expect(JSON.parse(lines[0]!)).toMatchObject({ author: 'a', authorizer: { claims: 'c' }, oauthProvider: 'o', signal: 'aborted', SIGNAL: 'TERM', design: 'd', signed: true });
  });
});

describe('secrets in header lists and under more names (review rvm)', () => {
  it("masks a flat header list (Node's rawHeaders) and [name, value] pairs ([...fetchHeaders]) by the header's name", () => {
    const lines: string[] = [];
    createLogger({}, (l) => lines.push(l), 'info').info('x', {
      rawHeaders: ['Host', 'h.example', 'Authorization', 'Bearer R1', 'Cookie', 'sid=R2', 'Accept', 'text/html'],
      headers: [['authorization', 'Bearer R3'], ['x-api-key', 'R4'], ['accept', 'application/json']],
      list: new Set(['X-Auth', 'R5']),
    });
    for (const secret of ['R1', 'R2', 'R3', 'R4', 'R5']) expect(lines[0]).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      rawHeaders: ['Host', 'h.example', 'Authorization', '[redacted]', 'Cookie', '[redacted]', 'Accept', 'text/html'],
      headers: [['authorization', '[redacted]'], ['x-api-key', '[redacted]'], ['accept', 'application/json']],
      list: ['X-Auth', '[redacted]'],
    });
  });

  it('masks jwt, passphrase, Authentication and SAS as whole words', () => {
    const lines: string[] = [];
    const fields = { jwt: 'J1', idJwt: 'J2', passphrase: 'P1', keyPassphrase: 'P2', Authentication: 'Bearer A1', 'x-authentication': 'A2', SAS: 'S1', sasUrl: 'S2', clientAssertion: 'C1' };
    createLogger({}, (l) => lines.push(l), 'info').info('x', fields);
    for (const secret of ['J1', 'J2', 'P1', 'P2', 'A1', 'A2', 'S1', 'S2', 'C1']) expect(lines[0]).not.toContain(secret);
  });

  it('keeps the names that only look alike, and arrays with no secret name in them', () => {
    const lines: string[] = [];
    const fields = { author: 'a', signal: 'b', design: 'c', authorizer: 'd', oauthProvider: 'e', sigma: 'f', kansas: 'g', sass: 'h', assertions: 3, tokenType: 'Bearer', SharedAccessKeyName: 'root', secretName: 'prod/db', tags: ['orders', 'eu-west-1'], pairs: [['accept', 'text/html']], words: ['an invalid token', 'kept'] };
    createLogger({}, (l) => lines.push(l), 'info').info('x', fields);
    expect(JSON.parse(lines[0]!)).toMatchObject(fields);
  });
});
