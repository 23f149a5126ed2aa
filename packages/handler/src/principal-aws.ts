/**
 * `ctx.principal` on AWS Lambda: the caller API Gateway or Lambda verified and wrote into
 * `requestContext` (which a client cannot set), and behind an ALB, its OIDC identity headers
 * (with the `alb-oidc` opt-in). Only the Lambda adapter imports it.
 */
import { getOwn, isRecord, setOwn, type Rec } from './internal/record.js';
import { makePrincipal, nonEmptyId, singleHeader, type Principal, type PrincipalClaims, type PrincipalReader } from './principal.js';

/**
 * A Lambda authorizer's `principalId`: an HTTP API hands its `context` over with JSON types
 * kept, so a numeric user id (from a simple response's `context`) arrives as a number. A safe
 * integer is that id as text; a larger one was already rounded by the JSON parse (two callers
 * could read as one), so it is none. REST APIs stringify context values and take `principalId`
 * as a string, so there it is always text already.
 */
function contextId(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : nonEmptyId(value);
}

function rec(parent: Rec, key: string): Rec {
  const value = getOwn(parent, key);
  return isRecord(value) ? value : {};
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
  return makePrincipal('cognito-identity', nonEmptyId(cognitoId), pool, { claims }) ?? makePrincipal('aws-iam', nonEmptyId(userArn), undefined, { claims });
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
    makePrincipal(httpApiV1 ? 'apigw-jwt' : 'apigw-cognito', nonEmptyId(getOwn(claims, 'sub')), getOwn(claims, 'iss'), { claims: claimMap(claims), scopes: scopeList(getOwn(authorizer, 'scopes')) }) ??
    makePrincipal('apigw-jwt', nonEmptyId(getOwn(jwt, 'sub')), getOwn(jwt, 'iss'), { claims: claimMap(jwt), scopes: scopeList(getOwn(jwtAuthorizer, 'scopes')) }) ??
    (flatId !== undefined
      ? makePrincipal('apigw-lambda-authorizer', flatId, undefined, { claims: claimMap(lambdaContext ? lambda : authorizer, AUTHORIZER_OWN_KEYS) })
      : makePrincipal('apigw-lambda-authorizer', contextId(getOwn(lambda, 'principalId')), undefined, { claims: claimMap(lambda, AUTHORIZER_OWN_KEYS) })) ??
    iamCaller(getOwn(cognito, 'identityId'), getOwn(cognito, 'identityPoolId'), getOwn(iam, 'userArn'), { ...iam, amr: getOwn(cognito, 'amr') }, HTTP_IAM_KEYS) ??
    iamCaller(getOwn(identity, 'cognitoIdentityId'), getOwn(identity, 'cognitoIdentityPoolId'), getOwn(identity, 'userArn'), identity, REST_IAM_KEYS)
  );
}

/** The `iss` of an ALB's `x-amzn-oidc-data` JWT (its signer is the ALB, trusted with the opt-in), or undefined. */
function albIssuer(jwt: string | undefined): string | undefined {
  const payload = jwt?.split('.')[1];
  if (payload === undefined || payload.length > 16_384) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isRecord(claims) ? nonEmptyId(getOwn(claims, 'iss')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Lambda adapter's reader: an ALB event's OIDC headers (`x-amzn-oidc-identity`, issuer from
 * `x-amzn-oidc-data`) with the `alb-oidc` opt-in; none for VPC Lattice; any other HTTP event's
 * `requestContext`.
 */
export const lambdaPrincipal: PrincipalReader = (trigger, raw, trusted) => {
  // VPC Lattice writes its own `requestContext.identity` (`type`, `principal`), not API Gateway's: none is read as one.
  if (trigger.source === 'vpc-lattice') return undefined;
  if (trigger.source === 'alb') {
    if (!trusted.has('alb-oidc')) return undefined;
    return makePrincipal('alb-oidc', singleHeader(trigger, 'x-amzn-oidc-identity'), albIssuer(singleHeader(trigger, 'x-amzn-oidc-data')));
  }
  const event = isRecord(raw) ? rec(raw, 'event') : {};
  return requestContextPrincipal(event, rec(event, 'requestContext'));
};
