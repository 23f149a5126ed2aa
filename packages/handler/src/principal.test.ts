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
  const cognitoPool = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Qx7Lm2Pz9';
  it.each([
    // REST Lambda authorizer: principalId, the context it returned as claims (integrationLatency is API Gateway's own).
    ['apigw-rest-lambda-authorizer.json', { id: 'user-7f3a', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', plan: 'pro' } }],
    [
      'apigw-rest-cognito.json',
      {
        id: '4c8d2a1e-90b7-4f36-a2c5-7e1d9b3f6a08',
        issuer: cognitoPool,
        source: 'apigw-cognito',
        claims: {
          sub: '4c8d2a1e-90b7-4f36-a2c5-7e1d9b3f6a08',
          iss: cognitoPool,
          'cognito:username': 'dana',
          aud: '3n5k7m9p1q3s5u7w9y1a3c5e7',
          token_use: 'id',
          auth_time: '1740999600',
          exp: 'Mon Mar 03 12:20:00 UTC 2025',
          iat: 'Mon Mar 03 11:20:00 UTC 2025',
          email: 'dana@example.com',
          email_verified: 'true',
        },
      },
    ],
    // IAM: the caller's ARN; the account and caller ids beside it, never the access key id.
    ['apigw-rest-iam.json', { id: 'arn:aws:iam::210987654321:user/ci-deployer', source: 'aws-iam', claims: { accountId: '210987654321', caller: 'AIDAQ3EXAMPLE7KLMNOP2', user: 'AIDAQ3EXAMPLE7KLMNOP2' } }],
    // Every identity of the pool shares the role ARN: the identity id tells them apart.
    [
      'apigw-rest-cognito-identity.json',
      {
        id: 'eu-west-1:7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
        issuer: 'eu-west-1:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        source: 'cognito-identity',
        claims: {
          accountId: '210987654321',
          caller: 'AROAQ3EXAMPLE9ROLEID:CognitoIdentityCredentials',
          user: 'AROAQ3EXAMPLE9ROLEID:CognitoIdentityCredentials',
          cognitoAuthenticationType: 'authenticated',
          cognitoAuthenticationProvider: 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Qx7Lm2Pz9,cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Qx7Lm2Pz9:CognitoSignIn:4c8d2a1e-90b7-4f36-a2c5-7e1d9b3f6a08',
        },
      },
    ],
    [
      'apigw-http-v2-jwt.json',
      {
        id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d0',
        issuer: 'https://orders.eu.auth0.com/',
        source: 'apigw-jwt',
        claims: { sub: 'auth0|65f0a1b2c3d4e5f6a7b8c9d0', iss: 'https://orders.eu.auth0.com/', aud: 'https://api.orders.example', iat: '1740999800', exp: '1741086200', scope: 'orders:write' },
        scopes: ['orders:write'],
      },
    ],
    ['apigw-http-v2-lambda-authorizer.json', { id: 'svc-billing', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme' } }],
    [
      'apigw-http-v2-iam.json',
      { id: 'arn:aws:iam::210987654321:user/report-runner', source: 'aws-iam', claims: { accountId: '210987654321', callerId: 'AIDAQ3EXAMPLE5QRSTU6', userId: 'AIDAQ3EXAMPLE5QRSTU6', principalOrgId: 'o-a1b2c3d4e5' } },
    ],
    [
      'function-url-iam.json',
      { id: 'arn:aws:sts::210987654321:assumed-role/orders-worker/worker-17', source: 'aws-iam', claims: { accountId: '210987654321', callerId: 'AROAQ3EXAMPLE1WXYZA2:worker-17', userId: 'AROAQ3EXAMPLE1WXYZA2:worker-17' } },
    ],
    // aws/aws-lambda-go events/testdata/apigw-request.json: a Lambda authorizer's principalId and context
    // (a number as the sample has it, strings "123"/"true" as the REST docs say API Gateway
    // stringifies them) beside filled-in identity fields: the authorizer is the caller.
    ['apigw-rest-lambda-authorizer-context.json', { id: 'acct-5521', source: 'apigw-lambda-authorizer', claims: { stringKey: 'gold', numberKey: '123', booleanKey: 'true', clientId: '1', clientName: 'Northwind' } }],
    // HTTP API payload 1.0 with a JWT authorizer: `authorizer.claims` + `scopes`, no `jwt` level
    // (the 1.0 example of "Working with AWS Lambda proxy integrations for HTTP APIs";
    // awsdocs/amazon-api-gateway-developer-guide#113 shows a real one). It is a JWT, not Cognito.
    [
      'apigw-http-v1-jwt.json',
      {
        id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d1',
        issuer: 'https://orders.eu.auth0.com/',
        source: 'apigw-jwt',
        claims: {
          aud: 'https://api.orders.example',
          azp: 'Zq8rT2vW4xY6zA8bC0dE2fG4hJ6kL8mN',
          exp: '1741086200',
          gty: 'client-credentials',
          iat: '1740999800',
          iss: 'https://orders.eu.auth0.com/',
          scope: 'orders:write orders:read',
          sub: 'auth0|65f0a1b2c3d4e5f6a7b8c9d1',
        },
        scopes: ['orders:write'],
      },
    ],
    // HTTP API payload 1.0 with a Lambda authorizer answering an IAM policy: principalId and context, flat as on REST.
    ['apigw-http-v1-lambda-authorizer.json', { id: 'svc-ledger', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', tier: '2' } }],
  ])('%s → %o', async (file, expected) => {
    expect(await lambdaPrincipal(published('aws', file))).toEqual(expected);
  });

  it('HTTP API payload 1.0 JWT authorizer: scopes null (a route without scopes, as in the published 1.0 example) is no scopes; the same claims on a REST event (no version) are a Cognito authorizer', async () => {
    const noScopes = published('aws', 'apigw-http-v1-jwt.json');
    noScopes.requestContext.authorizer.scopes = null;
    const principal = await lambdaPrincipal(noScopes);
    expect(principal).toMatchObject({ id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d1', source: 'apigw-jwt' });
    expect(principal).not.toHaveProperty('scopes');
    const rest = published('aws', 'apigw-http-v1-jwt.json');
    delete rest.version;
    expect(await lambdaPrincipal(rest)).toMatchObject({ id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d1', issuer: 'https://orders.eu.auth0.com/', source: 'apigw-cognito' });
  });

  it('HTTP API payload 1.0 Lambda authorizer: the context under `authorizer.lambda` (as payload 2.0 carries it) gives the same caller', async () => {
    const event = published('aws', 'apigw-http-v1-lambda-authorizer.json');
    const { integrationLatency: _latency, ...context } = event.requestContext.authorizer;
    event.requestContext.authorizer = { lambda: context };
    expect(await lambdaPrincipal(event)).toEqual({ id: 'svc-ledger', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', tier: '2' } });
  });

  describe('one Lambda authorizer caller, whichever shape API Gateway carries it in (REST, HTTP API payload 1.0, payload 2.0)', () => {
    /** The same authorizer context in each place: REST flat (values stringified), HTTP API 1.0 flat, 1.0 flat id beside a `lambda` context, 2.0 `lambda`. */
    function shapes(context: Json, stringified: Json): Array<[string, Json]> {
      const rest = published('aws', 'apigw-rest-lambda-authorizer.json');
      rest.requestContext.authorizer = { ...stringified, integrationLatency: 212 };
      const v1 = published('aws', 'apigw-http-v1-lambda-authorizer.json');
      v1.requestContext.authorizer = { ...context, integrationLatency: 38 };
      const { principalId, ...rest1 } = context;
      const v1Beside = published('aws', 'apigw-http-v1-lambda-authorizer.json');
      v1Beside.requestContext.authorizer = { principalId, integrationLatency: 38, lambda: rest1 };
      const v2 = published('aws', 'apigw-http-v2-lambda-authorizer.json');
      v2.requestContext.authorizer = { lambda: context };
      return [
        ['REST', rest],
        ['HTTP API 1.0, flat', v1],
        ['HTTP API 1.0, principalId beside the lambda context', v1Beside],
        ['HTTP API 2.0', v2],
      ];
    }

    it('a text principalId with text context: the same principal from all four', async () => {
      const context = { principalId: 'svc-ledger', tenant: 'acme', tier: '2' };
      for (const [shape, event] of shapes(context, context)) {
        expect([shape, await lambdaPrincipal(event)]).toEqual([shape, { id: 'svc-ledger', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', tier: '2' } }]);
      }
    });

    it('the published-shape 1.0 event of a simple-response authorizer (typed context, numeric principalId): the same principal as REST (stringified) and 2.0 (typed)', async () => {
      const event = published('aws', 'apigw-http-v1-lambda-authorizer-simple.json');
      const expected = { id: '4711', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', tier: '2', beta: 'true', regions: ['eu-west-1', 'eu-central-1'] } };
      expect(await lambdaPrincipal(event)).toEqual(expected);
      const { integrationLatency: _latency, ...context } = event.requestContext.authorizer;
      const stringified = { principalId: '4711', tenant: 'acme', tier: '2', beta: 'true', regions: ['eu-west-1', 'eu-central-1'] };
      for (const [shape, each] of shapes(context, stringified)) expect([shape, await lambdaPrincipal(each)]).toEqual([shape, expected]);
    });

    it('a principalId past 2^53 (rounded by the JSON parse) is nobody in every shape, never a neighbour id', async () => {
      const context = { principalId: 2 ** 53 + 2, tenant: 'acme' };
      for (const [shape, event] of shapes(context, { ...context, principalId: String(2 ** 53 + 2) }).slice(1)) {
        expect([shape, await lambdaPrincipal(event)]).toEqual([shape, null]);
      }
    });
  });

  it('authorizer context values that are objects or null are left out of claims; an empty context is no claims', async () => {
    const event = published('aws', 'apigw-rest-lambda-authorizer.json');
    event.requestContext.authorizer = { principalId: 'user-7f3a', nested: { a: 1 }, gone: null, list: ['a', 2, true], integrationLatency: 3 };
    expect(await lambdaPrincipal(event)).toEqual({ id: 'user-7f3a', source: 'apigw-lambda-authorizer', claims: { list: ['a', '2', 'true'] } });
    event.requestContext.authorizer = { principalId: 'user-7f3a', integrationLatency: 3 };
    expect(await lambdaPrincipal(event)).toEqual({ id: 'user-7f3a', source: 'apigw-lambda-authorizer' });
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
    expect(await lambdaPrincipal(withId(42))).toEqual({ id: '42', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme' } });
    expect(await lambdaPrincipal(withId(0))).toEqual({ id: '0', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme' } });
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

  const frankie = {
    id: 'b7e2c9d4-1f3a-4e8b-a6c5-0d9e8f7a6b5c',
    issuer: 'aad',
    source: 'azure-app-service',
    claims: { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier': 'b7e2c9d4-1f3a-4e8b-a6c5-0d9e8f7a6b5c', name: 'Frankie' },
  };

  it('with the opt-in: the principal id, with the identity provider as issuer, and the claims of x-ms-client-principal', async () => {
    expect(await call('http-easy-auth.json', { trustIdentityHeaders: ['azure-app-service'] })).toEqual(frankie);
  });

  // Microsoft Learn "Work with user identities in Azure App Service authentication": claims
  // `[{ typ, val }]` (a type repeats for each role and group), roles are the claims of `role_typ`.
  it('App Service with Entra ID app roles: roles from the claims of role_typ, repeated claim types kept as lists', async () => {
    expect(await call('http-easy-auth-roles.json', { trustIdentityHeaders: ['azure-app-service'] })).toEqual({
      id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      issuer: 'aad',
      source: 'azure-app-service',
      claims: {
        aud: '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b',
        iss: 'https://login.microsoftonline.com/3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98/v2.0',
        'http://schemas.microsoft.com/identity/claims/objectidentifier': '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier': 'q2V8n5Xc1Lw0Rt7Yb3Hk9Jm4Pd6Sf2Ga0Ue8Wi1Zo5',
        name: 'Robin Keller',
        preferred_username: 'robin@contoso.example',
        roles: ['Orders.Approve', 'Orders.Read'],
        groups: '1f2e3d4c-5b6a-4789-9a0b-c1d2e3f4a5b6',
        ver: '2.0',
      },
      roles: ['Orders.Approve', 'Orders.Read'],
    });
  });

  it('App Service: without x-ms-client-principal the id headers alone still count (as before); a malformed one makes nobody, and its value is never logged', async () => {
    const lines: string[] = [];
    const logSink = (line: string) => void lines.push(line);
    const f = published('azure', 'http-easy-auth.json');
    const { 'x-ms-client-principal': _dropped, ...withoutPrincipal } = f.request.headers as Record<string, string>;
    const run = async (headers: Record<string, string>) => {
      const req = new HttpRequest({ ...f.request, headers });
      const main = handler({ logSink, trustIdentityHeaders: ['azure-app-service'] }, (_input, ctx) => ({ principal: ctx.principal ?? null }));
      const res = (await main.azure(req, invocationContext(f.context, trigger.http({ methods: ['POST'], authLevel: 'anonymous' })))) as { jsonBody?: unknown; body?: unknown };
      return (JSON.parse(typeof res.body === 'string' ? res.body : JSON.stringify(res.jsonBody)) as { principal: Principal | null }).principal;
    };
    expect(await run(withoutPrincipal)).toEqual({ id: 'b7e2c9d4-1f3a-4e8b-a6c5-0d9e8f7a6b5c', issuer: 'aad', source: 'azure-app-service' });
    const json = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');
    const malformed = [
      'not base64 at all!',
      Buffer.from('{"auth_typ":"aad","claims":[').toString('base64'), // truncated JSON
      json(['aad']), // not an object
      json({ auth_typ: 'aad', claims: [{ typ: 'name', val: 7 }] }), // a claim value that is no string
      json({ identityProvider: 'github', userId: 'u-1', userRoles: [] }), // the Static Web Apps shape: not App Service's
      json({ auth_typ: 'aad', claims: [{ typ: 'name', val: 'x'.repeat(70_000) }] }), // longer than MAX_CLIENT_PRINCIPAL_LENGTH
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'), // not UTF-8
    ];
    for (const value of malformed) expect(await run({ ...withoutPrincipal, 'x-ms-client-principal': value }), value.slice(0, 40)).toBeNull();
    for (const value of malformed) expect(lines.join('\n')).not.toContain(value.slice(0, 24));
  });

  // Microsoft Learn "Accessing user information in Azure Static Web Apps" ("API functions"):
  // `x-ms-client-principal` with `{ identityProvider, userId, userDetails, userRoles }`.
  it('Static Web Apps: read only with the azure-static-web-apps opt-in — userId, identityProvider as issuer, userRoles, userDetails', async () => {
    expect(await call('http-static-web-apps.json')).toBeNull();
    // The App Service opt-in reads the App Service shape and -id headers only: this header is no principal there.
    expect(await call('http-static-web-apps.json', { trustIdentityHeaders: ['azure-app-service'] })).toBeNull();
    const swa = { id: 'd41f7a9c02b84e6f93a1c5b7e8d20f64', issuer: 'github', source: 'azure-static-web-apps', claims: { userDetails: 'octo-dana' }, roles: ['anonymous', 'authenticated', 'approver'] };
    expect(await call('http-static-web-apps.json', { trustIdentityHeaders: ['azure-static-web-apps'] })).toEqual(swa);
    expect(await call('http-static-web-apps.json', { trustIdentityHeaders: ['azure-app-service', 'azure-static-web-apps'] })).toEqual(swa);
    // x-ms-client-principal-id is App Service's: under the Static Web Apps opt-in a client's copy counts for nothing.
    expect(await call('http-easy-auth.json', { trustIdentityHeaders: ['azure-static-web-apps'] })).toBeNull();
    expect(await call('http-static-web-apps.json', { trustIdentityHeaders: ['azure-static-web-apps'] }, { 'x-ms-client-principal-id': 'admin' })).toEqual(swa);
  });

  it('Static Web Apps: an anonymous principal (no userId) is nobody', async () => {
    const anonymous = Buffer.from(JSON.stringify({ identityProvider: 'github', userRoles: ['anonymous'] })).toString('base64');
    expect(await call('http-static-web-apps.json', { trustIdentityHeaders: ['azure-static-web-apps'] }, { 'x-ms-client-principal': anonymous })).toBeNull();
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
