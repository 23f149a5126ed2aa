/**
 * `ctx.principal`: who is calling, read only from what the provider itself verified and wrote
 * into the event — never from a header or parameter the client could set, unless the user says
 * the platform in front authenticates (`trustIdentityHeaders`).
 *
 * AWS writes `requestContext` itself (a client cannot set it); App Service and Static Web Apps
 * authentication, IAP and ALB authentication put the caller in request headers, which a client
 * can also send when that authentication is off or bypassed — hence the opt-in. The OpenWhisk controller sets
 * `__ow_user` and refuses a request that tries to (400).
 *
 * Each provider's reader is its own (`PrincipalReader`, passed by the adapter in its frame):
 * AWS in `principal-aws.ts`, Azure in `principal-azure.ts`, IAP and OpenWhisk here. A provider
 * entry's bundle holds its own reader only.
 */
import { PrincipalInvalidError } from './errors.js';
import { getOwn, isRecord } from './internal/record.js';
import type { PrincipalClaims } from './principal-azure.js';
import type { Context, Trigger } from './types.js';

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

/** An HTTP trigger: the only kind a principal is read for. */
export type HttpTrigger = Extract<Trigger, { kind: 'http' }>;

/**
 * How one provider reads the caller it verified from an HTTP invocation (`raw`: the frame's
 * raw call), honouring the identity headers in `trusted` only. Each adapter passes its own in
 * the frame (`Frame.principal`), so a provider entry carries no other provider's reader.
 * May throw on a hostile shape: `verifiedPrincipal` turns that into no principal.
 */
export type PrincipalReader = (trigger: HttpTrigger, raw: unknown, trusted: ReadonlySet<IdentityHeaders>) => Principal | undefined;

/** A non-empty string, else undefined. */
export function nonEmptyId(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What a principal may carry besides its id. */
export interface PrincipalExtra {
  claims?: PrincipalClaims | undefined;
  roles?: readonly string[] | undefined;
  scopes?: readonly string[] | undefined;
}

/** The principal `value` names (undefined when it names none); empty claims, roles and scopes are left out. */
export function makePrincipal(source: PrincipalSource, value: string | undefined, issuer?: unknown, extra: PrincipalExtra = {}): Principal | undefined {
  if (value === undefined) return undefined;
  const iss = nonEmptyId(issuer);
  const principal: Principal = iss === undefined ? { id: value, source } : { id: value, issuer: iss, source };
  if (extra.claims !== undefined && Object.keys(extra.claims).length > 0) principal.claims = extra.claims;
  if (extra.roles !== undefined && extra.roles.length > 0) principal.roles = extra.roles;
  if (extra.scopes !== undefined && extra.scopes.length > 0) principal.scopes = extra.scopes;
  return principal;
}

/** One value of a header the platform sets once; a repeated header is nobody. */
export function singleHeader(trigger: HttpTrigger, name: string): string | undefined {
  const all = trigger.request.multiHeaders?.[name];
  if (all !== undefined && all.length !== 1) return undefined;
  return nonEmptyId(getOwn(trigger.request.headers, name)?.trim());
}

/** Cloud Functions (HTTP): Identity-Aware Proxy's `x-goog-authenticated-user-id`, with the `gcp-iap` opt-in. */
export const iapPrincipal: PrincipalReader = (trigger, _raw, trusted) =>
  trigger.source === 'express' && trusted.has('gcp-iap') ? makePrincipal('gcp-iap', singleHeader(trigger, 'x-goog-authenticated-user-id')) : undefined;

/** OpenWhisk web actions: `__ow_user` of the activation's parameters, which the controller sets. */
export const openwhiskPrincipal: PrincipalReader = (_trigger, raw) => (isRecord(raw) ? makePrincipal('openwhisk', nonEmptyId(getOwn(raw, '__ow_user'))) : undefined);

/**
 * The principal the provider verified for this invocation (`read`: the provider's reader, none
 * for a direct call), or undefined (anonymous, not an HTTP trigger, or an identity header the
 * user did not opt in to). Never throws.
 */
export function verifiedPrincipal(read: PrincipalReader | undefined, trigger: Trigger, raw: unknown, trusted: ReadonlySet<IdentityHeaders>): Principal | undefined {
  if (trigger.kind !== 'http' || read === undefined) return undefined;
  try {
    return read(trigger, raw, trusted);
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
