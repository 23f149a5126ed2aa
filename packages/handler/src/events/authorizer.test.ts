/**
 * An authorizer's answer, end to end through the Lambda adapter: the authorizer function runs
 * on a published authorizer event (test/fixtures/aws/published, see SOURCES.md), its answer is
 * carried into the integration's event the way the API Gateway developer guide says API
 * Gateway does, and the integration's `ctx.principal` is what the authorizer said.
 *
 * - REST ("Output from an API Gateway Lambda authorizer"): `principalId` and the `context`
 *   values flat under `requestContext.authorizer`, "stringified" ("123", "true"), beside
 *   `integrationLatency` (aws/aws-lambda-go `events/testdata/apigw-request.json`).
 * - HTTP API simple responses ("Working with AWS Lambda authorizers for HTTP APIs"): the
 *   `context` under `requestContext.authorizer.lambda` (aws-lambda-go
 *   `apigw-v2-request-lambda-authorizer.json`), JSON types kept.
 */
import { describe, expect, it } from 'vitest';
import { lambdaContext, published, type Json } from '../../test/support/published.js';
import { allow, authorized, handler, type Principal } from '../index.js';

const silent = { logSink: () => undefined };

/** What the authorizer function answers to API Gateway for `event`. */
async function authorize(event: Json, answer: () => unknown): Promise<Json> {
  return (await handler({ ...silent }, answer).aws(event, lambdaContext())) as Json;
}

/** The integration's `ctx.principal` for `event`. */
async function principalOf(event: Json): Promise<Principal | null> {
  const res = (await handler({ ...silent }, (_input, ctx) => ({ principal: ctx.principal ?? null })).aws(event, lambdaContext())) as { body: string };
  return (JSON.parse(res.body) as { principal: Principal | null }).principal;
}

/** REST: API Gateway passes principalId and each context value as text, with its own integrationLatency. */
function restIntegration(answer: Json): Json {
  const event = published('aws', 'apigw-rest-lambda-authorizer.json');
  const context = Object.fromEntries(Object.entries((answer.context ?? {}) as Json).map(([k, v]) => [k, String(v)]));
  event.requestContext.authorizer = { principalId: answer.principalId, ...context, integrationLatency: 41 };
  return event;
}

describe('an authorizer answer becomes the integration principal', () => {
  it('REST TOKEN authorizer: allow(id, { context }) → the principal id, its context as text claims', async () => {
    const answer = await authorize(published('aws', 'authorizer-token.json'), () => allow('user-88', { context: { tenant: 'acme', seats: 5, admin: false } }));
    expect(answer).toMatchObject({ principalId: 'user-88', context: { tenant: 'acme', seats: 5, admin: false } });
    expect(await principalOf(restIntegration(answer))).toEqual({ id: 'user-88', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', seats: '5', admin: 'false' } });
  });

  it('REST REQUEST authorizer: a simple answer is principal "anonymous" to API Gateway — every caller one principal', async () => {
    const answer = await authorize(published('aws', 'authorizer-request-v1.json'), () => authorized(true, { tenant: 'acme' }));
    expect(answer).toMatchObject({ principalId: 'anonymous' });
    expect(await principalOf(restIntegration(answer))).toEqual({ id: 'anonymous', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme' } });
  });

  it('HTTP API simple response: the caller is context.principalId (a string or a safe integer); without it there is none', async () => {
    const event = published('aws', 'authorizer-http-v2.json');
    const withId = await authorize(event, () => authorized(true, { principalId: 'svc-42', tier: 2, beta: true }));
    expect(withId).toEqual({ isAuthorized: true, context: { principalId: 'svc-42', tier: 2, beta: true } });
    const integration = published('aws', 'apigw-http-v2-lambda-authorizer.json');
    integration.requestContext.authorizer = { lambda: withId.context };
    expect(await principalOf(integration)).toEqual({ id: 'svc-42', source: 'apigw-lambda-authorizer', claims: { tier: '2', beta: 'true' } });

    const withoutId = await authorize(event, () => authorized(true, { tier: 2 }));
    integration.requestContext.authorizer = { lambda: withoutId.context };
    expect(await principalOf(integration)).toBeNull();
  });

  it('a context value that is an object is refused before API Gateway sees it (AUTHORIZER_RESULT_INVALID, a 500 to API Gateway)', async () => {
    await expect(authorize(published('aws', 'authorizer-token.json'), () => allow('user-1', { context: { nested: { a: 1 } } as never }))).rejects.toMatchObject({ code: 'AUTHORIZER_RESULT_INVALID' });
  });
});
