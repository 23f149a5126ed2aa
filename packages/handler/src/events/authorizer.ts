/**
 * API Gateway Lambda authorizers: REST `TOKEN` and `REQUEST` events, HTTP API `REQUEST`
 * events (payload 1.0 and 2.0). They are never answered as HTTP: the function returns an
 * answer built with the helpers below, which the adapter turns into what API Gateway reads
 * (an IAM policy, or `{ isAuthorized, context }` for HTTP API simple responses).
 *
 * Follows the API Gateway developer guide: "Input to an API Gateway Lambda authorizer",
 * "Output from an API Gateway Lambda authorizer", and for HTTP APIs "Working with AWS Lambda
 * authorizers for HTTP APIs" (payload format and response format 2.0).
 */
import { SteadyError } from '../errors.js';
import { isRecord, setOwn, type Rec } from '../internal/record.js';
import { eventHeaders, eventQuery } from '../http-event-maps.js';
import type { AuthorizerRequest, AuthorizerTrigger } from '../types.js';
import { needString, opt, stringMap, type EventItem } from './item.js';

const AUTHORIZER_ANSWER = Symbol.for('steadyfn.authorizerAnswer');

/** Values API Gateway accepts in an authorizer `context` (no objects or arrays). */
export type AuthorizerContext = Record<string, string | number | boolean>;

/** An authorizer's answer; build it with `allow`, `deny`, `authorizerPolicy` or `authorized`. */
export type AuthorizerAnswer =
  | { readonly [AUTHORIZER_ANSWER]: 'policy'; principalId: string; effect: 'Allow' | 'Deny'; resource: string[] | undefined; context: AuthorizerContext | undefined; usageIdentifierKey: string | undefined }
  | { readonly [AUTHORIZER_ANSWER]: 'simple'; isAuthorized: boolean; context: AuthorizerContext | undefined };

/** What `authorizerPolicy()` builds an IAM policy answer from. */
export interface PolicyInit {
  /** Who the caller is (`$context.authorizer.principalId`). */
  principalId: string;
  /** Whether the policy's one statement allows or denies `execute-api:Invoke` on `resource`. */
  effect: 'Allow' | 'Deny';
  /** Resources the statement covers. @default the ARN being authorized (`methodArn` / `routeArn`) */
  resource?: string | string[];
  /** Passed to the integration as `$context.authorizer.<key>`: strings, numbers, booleans only. */
  context?: AuthorizerContext;
  /** REST APIs: the usage plan API key, when the API's key source is `AUTHORIZER`. */
  usageIdentifierKey?: string;
}

/**
 * An IAM policy answer (REST `TOKEN`/`REQUEST` authorizers, and HTTP API authorizers without
 * simple responses).
 * @example return authorizerPolicy({ principalId: user.id, effect: 'Allow', resource: `${ctx.trigger.resource.split('/')[0]}/*` });
 */
export function authorizerPolicy(init: PolicyInit): AuthorizerAnswer {
  const resource = init.resource === undefined ? undefined : Array.isArray(init.resource) ? [...init.resource] : [init.resource];
  return { [AUTHORIZER_ANSWER]: 'policy', principalId: init.principalId, effect: init.effect, resource, context: init.context, usageIdentifierKey: init.usageIdentifierKey };
}

/** Allows `principalId` to call the resource being authorized (or `options.resource`). */
export function allow(principalId: string, options: Omit<PolicyInit, 'principalId' | 'effect'> = {}): AuthorizerAnswer {
  return authorizerPolicy({ ...options, principalId, effect: 'Allow' });
}

/** Denies `principalId` (API Gateway answers 403). */
export function deny(principalId: string, options: Omit<PolicyInit, 'principalId' | 'effect'> = {}): AuthorizerAnswer {
  return authorizerPolicy({ ...options, principalId, effect: 'Deny' });
}

/**
 * An HTTP API simple response `{ isAuthorized, context }` (authorizer with
 * `enableSimpleResponses`). On a REST authorizer it becomes an Allow/Deny policy for the
 * resource, with principal `anonymous`. Returning a plain boolean means the same.
 */
export function authorized(isAuthorized: boolean, context?: AuthorizerContext): AuthorizerAnswer {
  return { [AUTHORIZER_ANSWER]: 'simple', isAuthorized, context };
}

/** Whether `value` was built by `allow`, `deny`, `authorizerPolicy` or `authorized` (what an authorizer must return). */
export function isAuthorizerAnswer(value: unknown): value is AuthorizerAnswer {
  return typeof value === 'object' && value !== null && AUTHORIZER_ANSWER in value;
}

/** Whether a Lambda event is an authorizer call: `type` TOKEN/REQUEST with the ARN being authorized. */
export function isAuthorizerEvent(event: Rec): boolean {
  return (event.type === 'TOKEN' || event.type === 'REQUEST') && (typeof event.methodArn === 'string' || typeof event.routeArn === 'string');
}

/** The authorizer call as one item. */
export function authorizerItem(event: Rec): EventItem {
  const v2 = event.version === '2.0';
  const token = event.type === 'TOKEN';
  const resource = needString(event.routeArn ?? event.methodArn, v2 ? 'routeArn' : 'methodArn');
  const trigger: AuthorizerTrigger = { kind: 'authorizer', source: token ? 'apigw-token' : v2 ? 'apigw-request-v2' : 'apigw-request', resource };
  const rc = isRecord(event.requestContext) ? event.requestContext : {};
  const http = isRecord(rc.http) ? rc.http : {};
  // The same reading as the HTTP trigger's: every header of `headers` and `multiValueHeaders`
  // (a REST REQUEST or WebSocket `$connect` authorizer lists some only there), and the query of
  // `rawQueryString` (payload 2.0) or both query maps (1.0), repeated names kept apart.
  const { headers } = eventHeaders(event, v2);
  const { query, multiQuery } = eventQuery(event, v2);
  const identitySource = Array.isArray(event.identitySource)
    ? event.identitySource.filter((s): s is string => typeof s === 'string')
    : typeof event.identitySource === 'string'
      ? event.identitySource.split(',').map((s) => s.trim())
      : undefined;
  const method = typeof event.httpMethod === 'string' ? event.httpMethod : typeof http.method === 'string' ? http.method : undefined;
  const path = typeof event.path === 'string' ? event.path : typeof event.rawPath === 'string' ? event.rawPath : undefined;
  const input: AuthorizerRequest = {
    type: token ? 'TOKEN' : 'REQUEST',
    resource,
    ...opt('token', token ? needString(event.authorizationToken, 'authorizationToken') : undefined),
    ...opt('identitySource', identitySource),
    ...opt('method', method?.toUpperCase()),
    ...opt('path', path),
    headers,
    query,
    multiQuery,
    pathParameters: stringMap(event.pathParameters),
    stageVariables: stringMap(event.stageVariables),
  };
  return { trigger, deliveryId: undefined, payload: () => input };
}

/** A result the function returned that is no authorizer answer: a typed 500, thrown to API Gateway. */
function invalidAnswer(): SteadyError {
  return new SteadyError('AUTHORIZER_RESULT_INVALID', 'An authorizer must return allow(), deny(), authorizerPolicy(), authorized() or a boolean', { status: 500, retryable: false, expose: true });
}

function checkContext(context: unknown): Rec | undefined {
  if (context === undefined) return undefined;
  if (!isRecord(context)) throw invalidAnswer();
  const out: Rec = {};
  for (const [k, v] of Object.entries(context)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalidAnswer();
    setOwn<unknown>(out, k, v);
  }
  return out;
}

/**
 * What API Gateway reads from the function's result. Throws AUTHORIZER_RESULT_INVALID for a
 * result that is no answer (or a context value that is an object).
 */
export function renderAuthorizerAnswer(result: unknown, trigger: AuthorizerTrigger): Rec {
  const answer = typeof result === 'boolean' ? authorized(result) : result;
  if (!isAuthorizerAnswer(answer)) throw invalidAnswer();
  if (answer[AUTHORIZER_ANSWER] === 'simple' && trigger.source === 'apigw-request-v2') {
    const context = checkContext(answer.context);
    return { isAuthorized: answer.isAuthorized, ...(context ? { context } : {}) };
  }
  const policy =
    answer[AUTHORIZER_ANSWER] === 'simple'
      ? { principalId: 'anonymous', effect: answer.isAuthorized ? ('Allow' as const) : ('Deny' as const), resource: undefined, context: answer.context, usageIdentifierKey: undefined }
      : answer;
  if (typeof policy.principalId !== 'string' || (policy.effect !== 'Allow' && policy.effect !== 'Deny')) throw invalidAnswer();
  const context = checkContext(policy.context);
  return {
    principalId: policy.principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: policy.effect, Resource: policy.resource ?? [trigger.resource] }],
    },
    ...(context ? { context } : {}),
    ...(policy.usageIdentifierKey ? { usageIdentifierKey: policy.usageIdentifierKey } : {}),
  };
}

/**
 * The error API Gateway turns into `401 Unauthorized`: exactly the message `Unauthorized`,
 * no stack frames. Used for any 4xx failure (a rejected token, invalid input).
 */
export function unauthorizedError(): Error & { code: 'UNAUTHORIZED'; retryable: false } {
  const error = Object.assign(new Error('Unauthorized'), { code: 'UNAUTHORIZED' as const, retryable: false as const });
  error.name = 'Unauthorized';
  error.stack = 'Unauthorized';
  return error;
}
