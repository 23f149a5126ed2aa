/**
 * `ctx.principal`: who is calling, read only from what the provider itself verified and wrote
 * into the event — never from a header or parameter the client could set, unless the user says
 * the platform in front authenticates (`trustIdentityHeaders`).
 *
 * AWS writes `requestContext` itself (a client cannot set it); App Service and Static Web Apps
 * authentication, IAP and ALB authentication put the caller in request headers, which a client
 * can also send when that authentication is off or bypassed — hence the opt-in. The OpenWhisk controller sets
 * `__ow_user` and refuses a request that tries to (400).
 */
import { PrincipalInvalidError } from './errors.js';
import { getOwn, isRecord, setOwn, type Rec } from './internal/record.js';
import { appServicePrincipal, staticWebAppsPrincipal, type PrincipalClaims } from './principal-azure.js';
import type { Context, Provider, Trigger } from './types.js';

/**
 * Where `ctx.principal` came from:
 * - `apigw-lambda-authorizer`: an API Gateway Lambda authorizer's `principalId` (REST and
 *   WebSocket APIs, and HTTP APIs with payload format 1.0: `requestContext.authorizer.principalId`
 *   with the context flat beside it; HTTP APIs with payload 2.0:
 *   `requestContext.authorizer.lambda.principalId`, the authorizer's context). A safe-integer
 *   `principalId` (an HTTP API keeps the context's JSON types) is read as its text.
 * - `apigw-cognito`: a REST API Cognito user pool authorizer (`authorizer.claims.sub`, issuer `iss`).
 * - `apigw-jwt`: an HTTP API JWT authorizer (payload 2.0 `authorizer.jwt.claims.sub`; payload
 *   1.0, whose events carry `version: '1.0'`, `authorizer.claims.sub`; issuer `iss`).
 * - `aws-iam`: IAM (SigV4) authorization: the caller's `userArn` (REST `identity.userArn`,
 *   HTTP API and Function URL `authorizer.iam.userArn`).
 * - `cognito-identity`: IAM authorization with Cognito identity pool credentials: the
 *   identity id (issuer: the identity pool), since every such caller shares one role ARN.
 * - `alb-oidc`: an ALB `authenticate-oidc`/`authenticate-cognito` action (`x-amzn-oidc-identity`; opt-in).
 * - `azure-app-service`: App Service authentication ("Easy Auth",
 *   `x-ms-client-principal-id`, issuer `x-ms-client-principal-idp`, claims and roles from
 *   `x-ms-client-principal`; opt-in).
 * - `azure-static-web-apps`: Static Web Apps authentication (`x-ms-client-principal`: `userId`,
 *   issuer `identityProvider`, roles `userRoles`; opt-in).
 * - `gcp-iap`: Identity-Aware Proxy (`x-goog-authenticated-user-id`; opt-in).
 * - `openwhisk`: a web action annotated `require-whisk-auth`: `__ow_user`, the namespace of the authenticated subject.
 * - `custom`: the `principal` option of `handler()`.
 */
export type PrincipalSource =
  | 'apigw-lambda-authorizer'
  | 'apigw-cognito'
  | 'apigw-jwt'
  | 'aws-iam'
  | 'cognito-identity'
  | 'alb-oidc'
  | 'azure-app-service'
  | 'azure-static-web-apps'
  | 'gcp-iap'
  | 'openwhisk'
  | 'custom';

/** The authenticated caller of an invocation: `ctx.principal`. */
export interface Principal {
  /** The caller's identifier within `issuer` (a `sub`, a principal id, an ARN, a namespace). Never empty. */
  id: string;
  /** Who issued `id`, where the source says (a JWT `iss`, an identity pool, an App Service identity provider). */
  issuer?: string;
  /** Which verified field it was read from. */
  source: PrincipalSource;
  /**
   * What the verifier asserted about the caller, when there is any: the token's claims
   * (`apigw-cognito`, `apigw-jwt`: as API Gateway passes them, strings), the context a Lambda
   * authorizer returned (`apigw-lambda-authorizer`: without `principalId`, numbers and booleans
   * as their text, as REST APIs pass them), the `x-ms-client-principal` claims
   * (`azure-app-service`: each claim type to its value, or to all of them when the type
   * repeats; `azure-static-web-apps`: `userDetails`). Informational: `id`/`issuer` identify.
   */
  claims?: PrincipalClaims;
  /** The caller's roles, where the platform names them: App Service (claims of type `role_typ`), Static Web Apps (`userRoles`). */
  roles?: readonly string[];
  /** The OAuth scopes a JWT authorizer checked (`authorizer.jwt.scopes`; payload 1.0 `authorizer.scopes`). */
  scopes?: readonly string[];
}

export type { PrincipalClaims } from './principal-azure.js';

/**
 * Identity headers a platform in front of the function sets after authenticating the caller.
 * Trusted only when named in `handler({ trustIdentityHeaders })`: without that authentication
 * a client can send them itself.
 * - `alb-oidc`: an Application Load Balancer listener rule with `authenticate-oidc` or
 *   `authenticate-cognito` (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html).
 * - `azure-app-service`: App Service / Azure Functions authentication turned on
 *   (https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities).
 * - `azure-static-web-apps`: the function is a Static Web Apps API — managed, or a linked
 *   backend whose own endpoint only the static web app may call — whose front door sets
 *   `x-ms-client-principal` in its own shape
 *   (https://learn.microsoft.com/azure/static-web-apps/user-information). A separate opt-in:
 *   only `x-ms-client-principal` is documented as set there (the `-id`/`-idp` headers are not
 *   read), and its `userId` is per static web app, another namespace than App Service ids.
 * - `gcp-iap`: Identity-Aware Proxy in front of the function
 *   (https://cloud.google.com/iap/docs/identity-howto).
 */
export type IdentityHeaders = 'alb-oidc' | 'azure-app-service' | 'azure-static-web-apps' | 'gcp-iap';

/** The identity header sources, for option checks. */
export const IDENTITY_HEADERS: ReadonlyArray<IdentityHeaders> = ['alb-oidc', 'azure-app-service', 'azure-static-web-apps', 'gcp-iap'];

/**
 * A custom principal: the caller's id from your own authentication (e.g. a JWT you verified in
 * a `before` hook), or undefined for an anonymous caller. `verified` is what the provider
 * said (see `PrincipalSource`). A blank string counts as undefined.
 */
export type PrincipalFunction = (ctx: Context, verified: Principal | undefined) => string | undefined;

/** What `handler()` was told about principals. */
export interface PrincipalConfig {
  custom: PrincipalFunction | undefined;
  trusted: ReadonlySet<IdentityHeaders>;
}

/** A non-empty string, else undefined. */
function id(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A Lambda authorizer's `principalId`: an HTTP API hands its `context` over with JSON types
 * kept, so a numeric user id (from a simple response's `context`) arrives as a number. A safe
 * integer is that id as text; a larger one was already rounded by the JSON parse (two callers
 * could read as one), so it is none. REST APIs stringify context values and take `principalId`
 * as a string, so there it is always text already.
 */
function contextId(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : id(value);
}

function rec(parent: Rec, key: string): Rec {
  const value = getOwn(parent, key);
  return isRecord(value) ? value : {};
}

/** What a principal may carry besides its id. */
interface Extra {
  claims?: PrincipalClaims | undefined;
  roles?: readonly string[] | undefined;
  scopes?: readonly string[] | undefined;
}

function make(source: PrincipalSource, value: string | undefined, issuer?: unknown, extra: Extra = {}): Principal | undefined {
  if (value === undefined) return undefined;
  const iss = id(issuer);
  const principal: Principal = iss === undefined ? { id: value, source } : { id: value, issuer: iss, source };
  if (extra.claims !== undefined && Object.keys(extra.claims).length > 0) principal.claims = extra.claims;
  if (extra.roles !== undefined && extra.roles.length > 0) principal.roles = extra.roles;
  if (extra.scopes !== undefined && extra.scopes.length > 0) principal.scopes = extra.scopes;
  return principal;
}

/** A claim value as text: strings as they are, finite numbers and booleans as their text (REST APIs stringify them so). */
function claimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Claims (or a Lambda authorizer's context) as API Gateway passed them, without `skip`:
 * text values, arrays of them; `null`s and objects are left out.
 */
function claimMap(source: Rec, skip: ReadonlyArray<string> = []): PrincipalClaims {
  const out: Record<string, string | readonly string[]> = {};
  for (const [key, value] of Object.entries(source)) {
    if (skip.includes(key)) continue;
    const text = claimText(value);
    if (text !== undefined) setOwn(out, key, text);
    else if (Array.isArray(value)) {
      const texts = value.map(claimText);
      if (texts.every((t) => t !== undefined)) setOwn(out, key, texts as string[]);
    }
  }
  return out;
}

/** A JWT authorizer's `scopes`: its strings (`null` when the route requires none). */
function scopeList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string' && s !== '') : undefined;
}

/** Keys API Gateway itself adds to a Lambda authorizer's results (not the authorizer's context). */
const AUTHORIZER_OWN_KEYS = ['principalId', 'integrationLatency', 'usageIdentifierKey'];

/**
 * IAM-signed callers: a Cognito identity when the credentials came from an identity pool, else
 * the IAM ARN. `claims` keeps the account and caller ids API Gateway read from the signature
 * (`accountId`, `caller`/`callerId`, `user`/`userId`, `principalOrgId`, the Cognito
 * authentication type/provider or `amr`) — never the access key id.
 */
function iamCaller(cognitoId: unknown, pool: unknown, userArn: unknown, fields: Rec, keys: ReadonlyArray<string>): Principal | undefined {
  const claims = claimMap(Object.fromEntries(keys.map((k) => [k, getOwn(fields, k)])));
  return make('cognito-identity', id(cognitoId), pool, { claims }) ?? make('aws-iam', id(userArn), undefined, { claims });
}

/** What `iamCaller` keeps: REST `requestContext.identity`, HTTP API / Function URL `authorizer.iam` (with its `cognitoIdentity.amr`). */
const REST_IAM_KEYS = ['accountId', 'caller', 'user', 'cognitoAuthenticationType', 'cognitoAuthenticationProvider'];
const HTTP_IAM_KEYS = ['accountId', 'callerId', 'userId', 'principalOrgId', 'amr'];

/**
 * An API Gateway (REST, WebSocket, HTTP API with payload 1.0 or 2.0) or Function URL event's
 * `requestContext`, which API Gateway and Lambda write themselves: the authorizer's result
 * (Cognito or JWT claims, a Lambda authorizer's `principalId`), else the IAM caller. Each
 * field exists in one shape only, so one reader serves them all.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 *
 * `authorizer.claims` is a REST Cognito user pool authorizer's, or — on an HTTP API payload 1.0
 * event (`version: '1.0'`, which REST events do not carry) — a JWT authorizer's, with its
 * `scopes` beside it (the 1.0 example of "Working with AWS Lambda proxy integrations for HTTP APIs").
 */
function requestContextPrincipal(event: Rec, rc: Rec): Principal | undefined {
  const authorizer = rec(rc, 'authorizer');
  const claims = rec(authorizer, 'claims'); // REST: Cognito user pool authorizer; HTTP API 1.0: JWT authorizer
  const jwtAuthorizer = rec(authorizer, 'jwt'); // HTTP API 2.0: JWT authorizer
  const jwt = rec(jwtAuthorizer, 'claims');
  const lambda = rec(authorizer, 'lambda'); // HTTP API 2.0: Lambda authorizer context
  const iam = rec(authorizer, 'iam'); // HTTP API and Function URLs: AWS_IAM
  const cognito = rec(iam, 'cognitoIdentity');
  const identity = rec(rc, 'identity'); // REST: AWS_IAM
  const httpApiV1 = getOwn(event, 'version') === '1.0';
  // REST and HTTP API payload 1.0: `principalId` and the context flat under `authorizer`; payload
  // 2.0: the context under `authorizer.lambda`. A flat `principalId` beside a `lambda` context
  // takes its claims from that context. One caller, one principal, whichever shape carried it.
  const flatId = contextId(getOwn(authorizer, 'principalId'));
  const lambdaContext = isRecord(getOwn(authorizer, 'lambda'));
  return (
    make(httpApiV1 ? 'apigw-jwt' : 'apigw-cognito', id(getOwn(claims, 'sub')), getOwn(claims, 'iss'), { claims: claimMap(claims), scopes: scopeList(getOwn(authorizer, 'scopes')) }) ??
    make('apigw-jwt', id(getOwn(jwt, 'sub')), getOwn(jwt, 'iss'), { claims: claimMap(jwt), scopes: scopeList(getOwn(jwtAuthorizer, 'scopes')) }) ??
    (flatId !== undefined
      ? make('apigw-lambda-authorizer', flatId, undefined, { claims: claimMap(lambdaContext ? lambda : authorizer, AUTHORIZER_OWN_KEYS) })
      : make('apigw-lambda-authorizer', contextId(getOwn(lambda, 'principalId')), undefined, { claims: claimMap(lambda, AUTHORIZER_OWN_KEYS) })) ??
    iamCaller(getOwn(cognito, 'identityId'), getOwn(cognito, 'identityPoolId'), getOwn(iam, 'userArn'), { ...iam, amr: getOwn(cognito, 'amr') }, HTTP_IAM_KEYS) ??
    iamCaller(getOwn(identity, 'cognitoIdentityId'), getOwn(identity, 'cognitoIdentityPoolId'), getOwn(identity, 'userArn'), identity, REST_IAM_KEYS)
  );
}

/** One value of a header the platform sets once; a repeated header is nobody. */
function single(trigger: Extract<Trigger, { kind: 'http' }>, name: string): string | undefined {
  const all = trigger.request.multiHeaders?.[name];
  if (all !== undefined && all.length !== 1) return undefined;
  return id(getOwn(trigger.request.headers, name)?.trim());
}

/** The `iss` of an ALB's `x-amzn-oidc-data` JWT (its signer is the ALB, trusted with the opt-in), or undefined. */
function albIssuer(jwt: string | undefined): string | undefined {
  const payload = jwt?.split('.')[1];
  if (payload === undefined || payload.length > 16_384) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isRecord(claims) ? id(getOwn(claims, 'iss')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * App Service authentication: the id and provider from `x-ms-client-principal-id` / `-idp`
 * (as before `x-ms-client-principal` was read, so a caller keeps its id), claims and roles
 * from `x-ms-client-principal`. Static Web Apps: all from `x-ms-client-principal`. A
 * `x-ms-client-principal` that is there but malformed (not base64 JSON of the trusted
 * platform's shape, or too long) is nobody: the platform always sends it well-formed.
 */
function azurePrincipal(trigger: Extract<Trigger, { kind: 'http' }>, trusted: ReadonlySet<IdentityHeaders>): Principal | undefined {
  const present = getOwn(trigger.request.headers, 'x-ms-client-principal') !== undefined;
  const header = single(trigger, 'x-ms-client-principal'); // undefined when repeated: nobody
  if (trusted.has('azure-app-service')) {
    const id = single(trigger, 'x-ms-client-principal-id');
    const idp = single(trigger, 'x-ms-client-principal-idp');
    if (!present) return make('azure-app-service', id, idp);
    const decoded = appServicePrincipal(header);
    if (decoded !== undefined) return make('azure-app-service', id, idp ?? decoded.issuer, { claims: decoded.claims, roles: decoded.roles });
  }
  if (trusted.has('azure-static-web-apps') && present) {
    const decoded = staticWebAppsPrincipal(header);
    if (decoded !== undefined) return make('azure-static-web-apps', decoded.id, decoded.issuer, { claims: decoded.claims, roles: decoded.roles });
  }
  return undefined;
}

/** Identity headers, each only on the trigger of the platform that sets it (and only with the opt-in). */
function headerPrincipal(provider: Provider, trigger: Extract<Trigger, { kind: 'http' }>, trusted: ReadonlySet<IdentityHeaders>): Principal | undefined {
  switch (`${provider}:${trigger.source}`) {
    case 'aws:alb':
      if (!trusted.has('alb-oidc')) return undefined;
      return make('alb-oidc', single(trigger, 'x-amzn-oidc-identity'), albIssuer(single(trigger, 'x-amzn-oidc-data')));
    case 'azure:azure-http':
      return azurePrincipal(trigger, trusted);
    case 'gcp:express':
      if (!trusted.has('gcp-iap')) return undefined;
      return make('gcp-iap', single(trigger, 'x-goog-authenticated-user-id'));
    default:
      return undefined;
  }
}

/**
 * The principal the provider verified for this invocation, or undefined (anonymous, not an
 * HTTP trigger, or an identity header the user did not opt in to). Never throws.
 */
export function verifiedPrincipal(provider: Provider, trigger: Trigger, raw: unknown, trusted: ReadonlySet<IdentityHeaders>): Principal | undefined {
  if (trigger.kind !== 'http') return undefined;
  try {
    if (provider === 'aws') {
      const event = isRecord(raw) ? rec(raw, 'event') : {};
      if (trigger.source !== 'alb') return requestContextPrincipal(event, rec(event, 'requestContext'));
    }
    if (provider === 'openwhisk' && isRecord(raw)) return make('openwhisk', id(getOwn(raw, '__ow_user')));
    return headerPrincipal(provider, trigger, trusted);
  } catch {
    // A hostile shape (a throwing getter on a hand-built event) is no principal, not a failure.
    return undefined;
  }
}

/**
 * `ctx.principal`: the `principal` option's answer when it is given (it wins), else the
 * provider-verified principal.
 *
 * @throws PrincipalInvalidError when the `principal` option returns something other than a
 *   string or undefined.
 */
export function resolvePrincipal(ctx: Context, config: PrincipalConfig, verified: Principal | undefined): Principal | undefined {
  if (config.custom === undefined) return verified;
  const value: unknown = config.custom(ctx, verified);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new PrincipalInvalidError(value);
  return value.trim() === '' ? undefined : { id: value, source: 'custom' };
}
