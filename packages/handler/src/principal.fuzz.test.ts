/**
 * Fuzz: principal extraction on random shapes. It never throws; whatever a client controls
 * (headers, body, path, query) never becomes the principal unless `trustIdentityHeaders`
 * names that platform; and what it returns is always a non-empty id read from a field the
 * provider writes (`requestContext`, `__ow_user`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IDENTITY_HEADERS, iapPrincipal, openwhiskPrincipal, verifiedPrincipal as readVerified, type IdentityHeaders, type Principal, type PrincipalReader } from './principal.js';
import { lambdaPrincipal } from './principal-aws.js';
import { azurePrincipal, staticWebAppsPrincipal } from './principal-azure.js';
import type { HttpRequest, Provider, Trigger } from './types.js';

const IDENTITY_HEADER_NAMES = ['x-amzn-oidc-identity', 'x-amzn-oidc-data', 'x-ms-client-principal-id', 'x-ms-client-principal-idp', 'x-ms-client-principal', 'x-goog-authenticated-user-id'];
const NONE: ReadonlySet<IdentityHeaders> = new Set();
/** Each provider's reader, as its adapter passes it in the frame (a direct call has none). */
const READERS: Record<Provider, PrincipalReader | undefined> = { aws: lambdaPrincipal, azure: azurePrincipal, gcp: iapPrincipal, openwhisk: openwhiskPrincipal, direct: undefined };
const verifiedPrincipal = (provider: Provider, trigger: Trigger, raw: unknown, trusted: ReadonlySet<IdentityHeaders>) => readVerified(READERS[provider], trigger, raw, trusted);
const ALL: ReadonlySet<IdentityHeaders> = new Set(IDENTITY_HEADERS);

/** A well-formed `x-ms-client-principal` of either Azure shape (App Service, Static Web Apps), base64 JSON. */
const clientPrincipal = fc
  .oneof(
    fc.record({ auth_typ: fc.string(), claims: fc.array(fc.record({ typ: fc.constantFrom('roles', 'name', '__proto__'), val: fc.string() }), { maxLength: 3 }), role_typ: fc.constant('roles') }),
    fc.record({ identityProvider: fc.string(), userId: fc.string(), userDetails: fc.string(), userRoles: fc.array(fc.string(), { maxLength: 3 }) }),
  )
  .map((doc) => Buffer.from(JSON.stringify(doc)).toString('base64'));

/** Header maps a client could send: identity header names among random ones, any values (a client principal well-formed or not). */
const headers = fc.dictionary(fc.oneof(fc.constantFrom(...IDENTITY_HEADER_NAMES, '__proto__', 'constructor'), fc.string()), fc.oneof(fc.string(), clientPrincipal), { maxKeys: 8 });

function request(h: Record<string, string>): HttpRequest {
  return { method: 'POST', path: '/orders', headers: h, multiHeaders: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v]])), query: {}, multiQuery: {}, rawBody: undefined };
}

function httpTrigger(source: string, h: Record<string, string>): Trigger {
  return { kind: 'http', source, request: request(h) };
}

/** Random requestContext-like values: the real field names at random depths, with any JSON under them. */
const leaf = fc.oneof(fc.string(), fc.constant(''), fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 1 }));
const claims = fc.dictionary(fc.constantFrom('sub', 'iss', 'email', '__proto__'), leaf, { maxKeys: 3 });
const authorizer = fc.oneof(
  fc.constant(null),
  leaf,
  fc.record(
    {
      principalId: leaf,
      claims: fc.oneof(claims, leaf),
      jwt: fc.oneof(fc.record({ claims: fc.oneof(claims, leaf) }, { requiredKeys: [] }), leaf),
      lambda: fc.oneof(fc.dictionary(fc.constantFrom('principalId', 'tenant'), leaf), leaf),
      iam: fc.oneof(fc.record({ userArn: leaf, cognitoIdentity: fc.oneof(fc.record({ identityId: leaf, identityPoolId: leaf }, { requiredKeys: [] }), leaf) }, { requiredKeys: [] }), leaf),
    },
    { requiredKeys: [] },
  ),
);
const identity = fc.oneof(leaf, fc.record({ userArn: leaf, cognitoIdentityId: leaf, cognitoIdentityPoolId: leaf, sourceIp: leaf }, { requiredKeys: [] }));
const requestContext = fc.oneof(leaf, fc.record({ authorizer, identity }, { requiredKeys: [] }));

/** The non-empty strings (and safe integers, as text) a provider-written field of `rc` holds (where a principal may come from). */
function providerStrings(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string' && value !== '') out.add(value);
  else if (Number.isSafeInteger(value)) out.add(String(value));
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) providerStrings(v, out);
  return out;
}

function checkShape(p: Principal | undefined): void {
  if (p === undefined) return;
  expect(typeof p.id).toBe('string');
  expect(p.id.length).toBeGreaterThan(0);
  if (p.issuer !== undefined) expect(p.issuer.length).toBeGreaterThan(0);
}

describe('principal extraction on random shapes', () => {
  it('AWS API Gateway / Function URL: never throws; the principal is a provider-written value; client headers change nothing, with or without opt-ins', () => {
    fc.assert(
      fc.property(fc.constantFrom('apigw-v1', 'apigw-v2', 'function-url', 'apigw-websocket'), requestContext, headers, (source, rc, h) => {
        const raw = { event: { requestContext: rc, headers: h }, context: {} };
        const plain = verifiedPrincipal('aws', httpTrigger(source, {}), raw, NONE);
        checkShape(plain);
        if (plain) expect(providerStrings(rc).has(plain.id)).toBe(true);
        // The same event with client headers, under every opt-in: the same answer.
        expect(verifiedPrincipal('aws', httpTrigger(source, h), raw, ALL)).toEqual(plain);
      }),
      { numRuns: 500 },
    );
  });

  it('ALB, Azure HTTP and Cloud Functions HTTP: without the matching opt-in, no header makes a principal', () => {
    const cases: Array<[Provider, string, IdentityHeaders]> = [
      ['aws', 'alb', 'alb-oidc'],
      ['azure', 'azure-http', 'azure-app-service'],
      ['azure', 'azure-http', 'azure-static-web-apps'],
      ['gcp', 'express', 'gcp-iap'],
    ];
    const platformOf = (t: IdentityHeaders) => (t.startsWith('azure-') ? 'azure' : t);
    fc.assert(
      fc.property(fc.constantFrom(...cases), headers, fc.subarray([...IDENTITY_HEADERS]), fc.anything(), ([provider, source, own], h, trusted, raw) => {
        // Opt-ins for other platforms (Azure's two count as one platform here).
        const others = new Set(trusted.filter((t) => platformOf(t) !== platformOf(own)));
        expect(verifiedPrincipal(provider, httpTrigger(source, h), raw, others)).toBeUndefined();
        // With the opt-in: only ever the value of that platform's own identity header.
        const opted = verifiedPrincipal(provider, httpTrigger(source, h), raw, new Set([own]));
        checkShape(opted);
        if (!opted) return;
        expect(opted.source).toBe(own);
        if (own === 'azure-static-web-apps') expect(opted.id).toBe(staticWebAppsPrincipal(h['x-ms-client-principal']?.trim())?.id);
        else expect(opted.id).toBe(h[{ 'alb-oidc': 'x-amzn-oidc-identity', 'azure-app-service': 'x-ms-client-principal-id', 'gcp-iap': 'x-goog-authenticated-user-id' }[own]]!.trim());
      }),
      { numRuns: 500 },
    );
  });

  it('OpenWhisk: only __ow_user, and only a non-empty string of it', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('__ow_user', '__ow_headers', 'user', '__proto__'), fc.oneof(leaf, fc.string())), headers, (params, h) => {
        const p = verifiedPrincipal('openwhisk', httpTrigger('ow-web', h), params, ALL);
        checkShape(p);
        const user = Object.hasOwn(params, '__ow_user') ? params.__ow_user : undefined;
        expect(p).toEqual(typeof user === 'string' && user !== '' ? { id: user, source: 'openwhisk' } : undefined);
      }),
      { numRuns: 300 },
    );
  });

  it('any provider, any trigger, any raw value (throwing getters included): never throws; no HTTP, no principal', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor() {
          throw new Error('boom');
        },
      },
    );
    fc.assert(
      fc.property(
        fc.constantFrom<Provider>('aws', 'gcp', 'azure', 'openwhisk', 'direct'),
        fc.constantFrom('apigw-v1', 'apigw-v2', 'function-url', 'alb', 'azure-http', 'express', 'ow-web', 'sqs'),
        fc.boolean(),
        // Hostile values are picked inside the property: fast-check inspects the constants it generates.
        fc.oneof(fc.anything(), fc.constantFrom('hostile', 'hostile event', 'hostile requestContext')),
        headers,
        (provider, source, http, picked, h) => {
          const raw = picked === 'hostile' ? hostile : picked === 'hostile event' ? { event: hostile } : picked === 'hostile requestContext' ? { event: { requestContext: hostile } } : picked;
          const trigger: Trigger = http ? httpTrigger(source, h) : { kind: 'queue', source, messageId: 'm', attributes: h, batchIndex: 0, batchSize: 1 };
          const p = verifiedPrincipal(provider, trigger, raw, ALL);
          checkShape(p);
          if (!http) expect(p).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });
});
