/**
 * `ctx.principal` through the real adapters, from published-shape events
 * (test/fixtures/<provider>/published, see SOURCES.md there): the Lambda adapter with API
 * Gateway REST / HTTP API / Function URL / ALB events, `@azure/functions` `HttpRequest` and
 * `InvocationContext` in test mode, the Functions Framework's test server, and OpenWhisk web
 * action params as the controller builds them. Identity headers a client can send are ignored
 * unless `trustIdentityHeaders` names the platform that sets them, and only on that platform.
 */
import { request as httpRequest } from 'node:http';
import { HttpRequest, trigger } from '@azure/functions';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { controllerParams } from '../test/fixtures/openwhisk/controller.js';
import { invocationContext } from '../test/support/azure.js';
import { closeServers, serve } from '../test/support/gcp-server.js';
import { lambdaContext, published, type Json } from '../test/support/published.js';
import { sqsRecord } from '../test/support/sqs.js';
import { handler, type Context, type HandlerOptions, type Plugin, type Principal } from './index.js';

afterAll(closeServers);

const silent = { logSink: () => undefined };
type Options = Omit<HandlerOptions<undefined, []>, 'use'>;

/** The principal the function sees for a Lambda event (`null` for none). */
async function lambdaPrincipal(event: Json, options: Options = {}): Promise<Principal | null> {
  const main = handler({ ...silent, ...options }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
  const res = (await main.aws(event, lambdaContext())) as { statusCode: number; body: string };
  expect(res.statusCode, res.body).toBe(200);
  return (JSON.parse(res.body) as { principal: Principal | null }).principal;
}

describe('ctx.principal on AWS (Lambda adapter, published event shapes)', () => {
  it.each([
    ['apigw-rest-lambda-authorizer.json', { id: 'user-7f3a', source: 'apigw-lambda-authorizer' }],
    ['apigw-rest-cognito.json', { id: '4c8d2a1e-90b7-4f36-a2c5-7e1d9b3f6a08', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Qx7Lm2Pz9', source: 'apigw-cognito' }],
    ['apigw-rest-iam.json', { id: 'arn:aws:iam::210987654321:user/ci-deployer', source: 'aws-iam' }],
    // Every identity of the pool shares the role ARN: the identity id tells them apart.
    ['apigw-rest-cognito-identity.json', { id: 'eu-west-1:7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918', issuer: 'eu-west-1:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', source: 'cognito-identity' }],
    ['apigw-http-v2-jwt.json', { id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d0', issuer: 'https://orders.eu.auth0.com/', source: 'apigw-jwt' }],
    ['apigw-http-v2-lambda-authorizer.json', { id: 'svc-billing', source: 'apigw-lambda-authorizer' }],
    ['apigw-http-v2-iam.json', { id: 'arn:aws:iam::210987654321:user/report-runner', source: 'aws-iam' }],
    ['function-url-iam.json', { id: 'arn:aws:sts::210987654321:assumed-role/orders-worker/worker-17', source: 'aws-iam' }],
  ])('%s → %o', async (file, expected) => {
    expect(await lambdaPrincipal(published('aws', file))).toEqual(expected);
  });

  it.each(['apigw-rest-post.json', 'apigw-rest-nulls.json', 'apigw-http-v2.json', 'apigw-http-v2-minimal.json', 'function-url-post.json', 'alb-headers-only.json', 'alb-multi-value.json'])(
    'an unauthenticated request (%s) has none',
    async (file) => {
      const event = published('aws', file);
      if (file === 'apigw-rest-nulls.json') event.httpMethod = 'POST';
      expect(await lambdaPrincipal(event)).toBeNull();
    },
  );

  it('ALB: x-amzn-oidc-* headers are ignored without the opt-in (a client can send them), read with it', async () => {
    expect(await lambdaPrincipal(published('aws', 'alb-oidc.json'))).toBeNull();
    expect(await lambdaPrincipal(published('aws', 'alb-oidc.json'), { trustIdentityHeaders: ['azure-app-service', 'gcp-iap'] })).toBeNull();
    expect(await lambdaPrincipal(published('aws', 'alb-oidc.json'), { trustIdentityHeaders: ['alb-oidc'] })).toEqual({
      id: '00u1a2b3c4D5e6F7g8h9',
      issuer: 'https://login.example-idp.com',
      source: 'alb-oidc',
    });
  });

  it('ALB with the opt-in: a repeated x-amzn-oidc-identity (multi-value headers) is nobody, not the first value', async () => {
    const event = published('aws', 'alb-multi-value.json');
    event.multiValueHeaders['x-amzn-oidc-identity'] = ['alice', 'mallory'];
    expect(await lambdaPrincipal(event, { trustIdentityHeaders: ['alb-oidc'] })).toBeNull();
  });

  it('identity headers a client forged on API Gateway and Function URL events are ignored, even with every opt-in', async () => {
    const all = { trustIdentityHeaders: ['alb-oidc', 'azure-app-service', 'gcp-iap'] } as const;
    for (const file of ['apigw-http-v2.json', 'function-url-post.json', 'apigw-rest-post.json']) {
      const event = published('aws', file);
      const forged = { 'x-amzn-oidc-identity': 'admin', 'x-ms-client-principal-id': 'admin', 'x-goog-authenticated-user-id': 'accounts.google.com:admin', 'x-user-id': 'admin' };
      Object.assign(event.headers, forged);
      if (event.multiValueHeaders) for (const [k, v] of Object.entries(forged)) event.multiValueHeaders[k] = [v];
      expect(await lambdaPrincipal(event, all), file).toBeNull();
    }
  });

  it('a Cognito authorizer wins over an IAM identity on the same REST event; a blank principalId is none', async () => {
    const event = published('aws', 'apigw-rest-cognito.json');
    event.requestContext.identity.userArn = 'arn:aws:iam::210987654321:user/other';
    expect(await lambdaPrincipal(event)).toMatchObject({ source: 'apigw-cognito' });
    const blank = published('aws', 'apigw-rest-lambda-authorizer.json');
    blank.requestContext.authorizer.principalId = '';
    expect(await lambdaPrincipal(blank)).toBeNull();
  });

  it('HTTP API Lambda authorizer: a numeric principalId in its context (kept a number, as API Gateway keeps context numbers) is that caller; an unsafe integer, a boolean or an object is none', async () => {
    const withId = (value: unknown): Json => {
      const event = published('aws', 'apigw-http-v2-lambda-authorizer.json');
      event.requestContext.authorizer.lambda.principalId = value;
      return event;
    };
    expect(await lambdaPrincipal(withId(42))).toEqual({ id: '42', source: 'apigw-lambda-authorizer' });
    expect(await lambdaPrincipal(withId(0))).toEqual({ id: '0', source: 'apigw-lambda-authorizer' });
    // 2^53 + 1 parses as 2^53: two callers would read as one.
    for (const value of [9007199254740993, 1.5, Number.NaN, true, { id: 'x' }, ['a']]) expect(await lambdaPrincipal(withId(value)), String(value)).toBeNull();
  });

  it('a queue message has no caller', async () => {
    const seen: Array<Principal | undefined> = [];
    const main = handler({ ...silent }, (_input, ctx) => void seen.push(ctx.principal));
    await main.aws({ Records: [sqsRecord('m-1', { a: 1 })] }, lambdaContext());
    expect(seen).toEqual([undefined]);
  });
});

describe('ctx.principal on Azure (@azure/functions in test mode)', () => {
  const call = async (file: string, options: Options = {}, extra: Record<string, string> = {}): Promise<Principal | null> => {
    const f = published('azure', file);
    const req = new HttpRequest({ ...f.request, headers: { ...f.request.headers, ...extra } });
    const main = handler({ ...silent, ...options }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    const res = (await main.azure(req, invocationContext(f.context, trigger.http({ methods: ['POST'], authLevel: 'anonymous' })))) as { status: number; jsonBody?: unknown; body?: unknown };
    expect(res.status).toBe(200);
    const body = typeof res.body === 'string' ? res.body : JSON.stringify(res.jsonBody);
    return (JSON.parse(body) as { principal: Principal | null }).principal;
  };

  it('App Service authentication headers are ignored without the opt-in (Easy Auth strips client copies only when it is on)', async () => {
    expect(await call('http-easy-auth.json')).toBeNull();
    expect(await call('http-easy-auth.json', { trustIdentityHeaders: ['alb-oidc', 'gcp-iap'] })).toBeNull();
  });

  it('with the opt-in: the principal id, with the identity provider as issuer', async () => {
    expect(await call('http-easy-auth.json', { trustIdentityHeaders: ['azure-app-service'] })).toEqual({ id: 'b7e2c9d4-1f3a-4e8b-a6c5-0d9e8f7a6b5c', issuer: 'aad', source: 'azure-app-service' });
  });
});

describe('ctx.principal on Cloud Functions (Functions Framework test server)', () => {
  const post = async (options: Options, forged: Record<string, string> = {}): Promise<Principal | null> => {
    const f = published('gcp', 'http-iap.json');
    const main = handler({ ...silent, ...options }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    const url = await serve('http', main.gcpHttp);
    const res = await fetch(`${url}${f.path}`, { method: f.method, headers: { ...f.headers, ...forged }, body: f.body });
    expect(res.status).toBe(200);
    return ((await res.json()) as { principal: Principal | null }).principal;
  };

  it('IAP headers are ignored without the opt-in; read with it; App Service or ALB headers never count here', async () => {
    expect(await post({})).toBeNull();
    expect(await post({ trustIdentityHeaders: ['alb-oidc', 'azure-app-service'] }, { 'x-ms-client-principal-id': 'admin', 'x-amzn-oidc-identity': 'admin' })).toBeNull();
    expect(await post({ trustIdentityHeaders: ['gcp-iap'] })).toEqual({ id: 'accounts.google.com:118204957362514078921', source: 'gcp-iap' });
  });

  it('with the opt-in, x-goog-authenticated-user-id sent twice (two header lines, which Node joins with ", ") is nobody, as on the other platforms', async () => {
    const f = published('gcp', 'http-iap.json');
    const main = handler({ ...silent, trustIdentityHeaders: ['gcp-iap'] }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    const url = new URL(await serve('http', main.gcpHttp));
    const headers: Record<string, string | string[]> = { ...f.headers, 'x-goog-authenticated-user-id': ['accounts.google.com:1001', 'accounts.google.com:1002'] };
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: f.path, method: f.method, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(f.body);
    });
    expect((JSON.parse(body) as { principal: Principal | null }).principal).toBeNull();
  });
});

describe('ctx.principal on OpenWhisk (web action params as the controller builds them)', () => {
  const run = async (params: Record<string, unknown>): Promise<Principal | null> => {
    const main = handler({ ...silent }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    const result = (await main.openwhisk(params)) as { statusCode: number; body: unknown };
    const body = typeof result.body === 'string' ? JSON.parse(Buffer.from(result.body, 'base64').toString('utf8')) : result.body;
    return (body as { principal: Principal | null }).principal;
  };

  it('require-whisk-auth: __ow_user (set by the controller, never by the request) is the principal; without it there is none', async () => {
    const req = { method: 'POST', headers: { 'idempotency-key': 'k-1' }, contentType: 'application/json', body: '{"orderId":"o-1"}' };
    expect(await run(controllerParams(req, false, 'acme_prod'))).toEqual({ id: 'acme_prod', source: 'openwhisk' });
    expect(await run(controllerParams(req, true, 'acme_prod'))).toEqual({ id: 'acme_prod', source: 'openwhisk' });
    expect(await run(controllerParams(req, false))).toBeNull();
  });

  it('an activation another namespace invoked (a shared package, a plain invoke) carries no principal, whatever __ow_user it passes', async () => {
    // A plain (non-web) invoke hands the action whatever params the caller sends: any namespace
    // may invoke an action of a shared package, and pass web-action params with a victim's __ow_user.
    // The runtime names the activation's namespace (the invoking subject's) in __OW_NAMESPACE.
    const req = { method: 'POST', headers: { 'idempotency-key': 'k-1' }, contentType: 'application/json', body: '{"orderId":"o-1"}' };
    const forged = controllerParams(req, false, 'acme_prod');
    vi.stubEnv('__OW_ACTION_NAME', '/acme_prod/shared-orders/create');
    try {
      vi.stubEnv('__OW_NAMESPACE', 'mallory_dev');
      expect(await run(forged)).toBeNull();
      // The owner's own activations (a web action runs as its owner) keep __ow_user.
      vi.stubEnv('__OW_NAMESPACE', 'acme_prod');
      expect(await run(forged)).toEqual({ id: 'acme_prod', source: 'openwhisk' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('the principal option', () => {
  const jwtUser: Plugin<{ user: string | undefined }> = {
    name: 'jwt-user',
    extend: (ctx) => ({ user: ctx.trigger.kind === 'http' ? ctx.trigger.request.headers['x-verified-user'] : undefined }),
  };

  it('wins over the provider, is handed the verified principal, and may read what a plugin put on ctx', async () => {
    const verifiedSeen: Array<Principal | undefined> = [];
    const principal = (ctx: Context, verified: Principal | undefined) => {
      verifiedSeen.push(verified);
      // Reading ctx.principal in here gives the verified one (no recursion).
      expect(ctx.principal).toEqual(verified);
      return (ctx as Context<{ user: string | undefined }>).user;
    };
    const main = handler({ ...silent, use: [jwtUser], principal }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    const event = published('aws', 'apigw-http-v2-jwt.json');
    event.headers['x-verified-user'] = 'u-42';
    const res = (await main.aws(event, lambdaContext())) as { body: string };
    expect(JSON.parse(res.body)).toEqual({ principal: { id: 'u-42', source: 'custom' } });
    expect(verifiedSeen[0]).toMatchObject({ source: 'apigw-jwt' });
    delete event.headers['x-verified-user'];
    expect(JSON.parse(((await main.aws(event, lambdaContext())) as { body: string }).body)).toEqual({ principal: null });
  });

  it('a blank answer is none; a non-string fails the invocation with a terminal PRINCIPAL_INVALID 500', async () => {
    const blank = handler({ ...silent, principal: () => '  ' }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    expect(await blank.invoke({})).toEqual({ principal: null });
    const wrong = handler({ ...silent, principal: (() => 42) as never }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
    await expect(wrong.invoke({})).rejects.toMatchObject({ code: 'PRINCIPAL_INVALID', retryable: false });
  });

  it('options are checked up front', () => {
    expectOptionRefused(() => handler({ principal: 'sub' } as never, () => undefined), 'handler', 'principal', ['a function']);
    expectOptionRefused(() => handler({ trustIdentityHeaders: ['x-user-id'] } as never, () => undefined), 'handler', 'trustIdentityHeaders', ["'alb-oidc'"]);
    expectOptionRefused(() => handler({ trustIdentityHeaders: 'alb-oidc' } as never, () => undefined), 'handler', 'trustIdentityHeaders');
  });

  it('a plugin may not replace ctx.principal through extend', async () => {
    const main = handler({ ...silent, use: [{ name: 'spoof', extend: () => ({ principal: { id: 'admin', source: 'custom' } }) }] }, () => 'ran');
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
