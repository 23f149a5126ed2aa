/**
 * `ctx.principal`: who is calling, read only from what the provider itself verified and wrote
 * into the event — never from a header or parameter the client could set, unless the user says
 * the platform in front authenticates (`trustIdentityHeaders`).
 *
 * AWS writes `requestContext` itself (a client cannot set it); App Service authentication,
 * IAP and ALB authentication put the caller in request headers, which a client can also send
 * when that authentication is off — hence the opt-in. The OpenWhisk controller sets
 * `__ow_user` and refuses a request that tries to (400).
 */
import { PrincipalInvalidError } from './errors.js';
import { getOwn, isRecord, type Rec } from './internal/record.js';
import type { Context, Provider, Trigger } from './types.js';

/**
 * Where `ctx.principal` came from:
 * - `apigw-lambda-authorizer`: an API Gateway Lambda authorizer's `principalId` (REST and
 *   WebSocket APIs `requestContext.authorizer.principalId`; HTTP APIs
 *   `requestContext.authorizer.lambda.principalId`, the authorizer's context).
 * - `apigw-cognito`: a REST API Cognito user pool authorizer (`authorizer.claims.sub`, issuer `iss`).
 * - `apigw-jwt`: an HTTP API JWT authorizer (`authorizer.jwt.claims.sub`, issuer `iss`).
 * - `aws-iam`: IAM (SigV4) authorization: the caller's `userArn` (REST `identity.userArn`,
 *   HTTP API and Function URL `authorizer.iam.userArn`).
 * - `cognito-identity`: IAM authorization with Cognito identity pool credentials: the
 *   identity id (issuer: the identity pool), since every such caller shares one role ARN.
 * - `alb-oidc`: an ALB `authenticate-oidc`/`authenticate-cognito` action (`x-amzn-oidc-identity`; opt-in).
 * - `azure-app-service`: App Service authentication ("Easy Auth",
 *   `x-ms-client-principal-id`, issuer `x-ms-client-principal-idp`; opt-in).
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
}

/**
 * Identity headers a platform in front of the function sets after authenticating the caller.
 * Trusted only when named in `handler({ trustIdentityHeaders })`: without that authentication
 * a client can send them itself.
 * - `alb-oidc`: an Application Load Balancer listener rule with `authenticate-oidc` or
 *   `authenticate-cognito` (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html).
 * - `azure-app-service`: App Service / Azure Functions authentication turned on
 *   (https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities).
 * - `gcp-iap`: Identity-Aware Proxy in front of the function
 *   (https://cloud.google.com/iap/docs/identity-howto).
 */
export type IdentityHeaders = 'alb-oidc' | 'azure-app-service' | 'gcp-iap';

/** The identity header sources, for option checks. */
export const IDENTITY_HEADERS: ReadonlyArray<IdentityHeaders> = ['alb-oidc', 'azure-app-service', 'gcp-iap'];

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
 * An HTTP API Lambda authorizer's `principalId`: its `context` is handed over with JSON types
 * kept, so a numeric user id arrives as a number. A safe integer is that id as text; a larger
 * one was already rounded by the JSON parse (two callers could read as one), so it is none.
 */
function contextId(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : id(value);
}

function rec(parent: Rec, key: string): Rec {
  const value = getOwn(parent, key);
  return isRecord(value) ? value : {};
}

function make(source: PrincipalSource, value: string | undefined, issuer?: unknown): Principal | undefined {
  if (value === undefined) return undefined;
  const iss = id(issuer);
  return iss === undefined ? { id: value, source } : { id: value, issuer: iss, source };
}

/** IAM-signed callers: a Cognito identity when the credentials came from an identity pool, else the IAM ARN. */
function iamCaller(cognitoId: unknown, pool: unknown, userArn: unknown): Principal | undefined {
  return make('cognito-identity', id(cognitoId), pool) ?? make('aws-iam', id(userArn));
}

/**
 * An API Gateway (REST, WebSocket, HTTP API with payload 1.0 or 2.0) or Function URL event's
 * `requestContext`, which API Gateway and Lambda write themselves: the authorizer's result
 * (Cognito or JWT claims, a Lambda authorizer's `principalId`), else the IAM caller. Each
 * field exists in one shape only, so one reader serves them all.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
function requestContextPrincipal(rc: Rec): Principal | undefined {
  const authorizer = rec(rc, 'authorizer');
  const claims = rec(authorizer, 'claims'); // REST: Cognito user pool authorizer
  const jwt = rec(rec(authorizer, 'jwt'), 'claims'); // HTTP API: JWT authorizer
  const iam = rec(authorizer, 'iam'); // HTTP API and Function URLs: AWS_IAM
  const cognito = rec(iam, 'cognitoIdentity');
  const identity = rec(rc, 'identity'); // REST: AWS_IAM
  return (
    make('apigw-cognito', id(getOwn(claims, 'sub')), getOwn(claims, 'iss')) ??
    make('apigw-jwt', id(getOwn(jwt, 'sub')), getOwn(jwt, 'iss')) ??
    make('apigw-lambda-authorizer', id(getOwn(authorizer, 'principalId')) ?? contextId(getOwn(rec(authorizer, 'lambda'), 'principalId'))) ??
    iamCaller(getOwn(cognito, 'identityId'), getOwn(cognito, 'identityPoolId'), getOwn(iam, 'userArn')) ??
    iamCaller(getOwn(identity, 'cognitoIdentityId'), getOwn(identity, 'cognitoIdentityPoolId'), getOwn(identity, 'userArn'))
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

/** Identity headers, each only on the trigger of the platform that sets it (and only with the opt-in). */
function headerPrincipal(provider: Provider, trigger: Extract<Trigger, { kind: 'http' }>, trusted: ReadonlySet<IdentityHeaders>): Principal | undefined {
  switch (`${provider}:${trigger.source}`) {
    case 'aws:alb':
      if (!trusted.has('alb-oidc')) return undefined;
      return make('alb-oidc', single(trigger, 'x-amzn-oidc-identity'), albIssuer(single(trigger, 'x-amzn-oidc-data')));
    case 'azure:azure-http':
      if (!trusted.has('azure-app-service')) return undefined;
      return make('azure-app-service', single(trigger, 'x-ms-client-principal-id'), single(trigger, 'x-ms-client-principal-idp'));
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
      if (trigger.source !== 'alb') return requestContextPrincipal(rec(event, 'requestContext'));
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
