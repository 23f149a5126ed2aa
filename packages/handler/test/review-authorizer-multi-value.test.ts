/**
 * Review finding: an API Gateway REQUEST authorizer read only `event.headers` and
 * `event.queryStringParameters`. A header listed only in `multiValueHeaders` was lost (a
 * WebSocket `$connect`'s `Sec-WebSocket-Key`, a REST request's `Origin`), a repeated header was
 * its last value while the backend sees `a, b`, and an HTTP API 2.0 authorizer's
 * `?p=value1&p=value2` reached the function as `'value1,value2'` — which cannot be told from one
 * value with a comma — while the HTTP trigger gives `'value2'` and `multiQuery`. The authorizer
 * now reads both with the HTTP trigger's own code (`http-event-maps.ts`).
 *
 * Replays Powertools Python's published authorizer events, data unchanged
 * (test/fixtures/samples/SOURCES.md), through the root entry and `@steadyfn/handler/aws`; the same
 * event with its authorizer members removed is the HTTP request it authorizes, run through the
 * HTTP trigger for comparison.
 */
import { describe, expect, it } from 'vitest';
import { allow, type AuthorizerRequest } from '../src/index.js';
import { runOnAwsEntries, sample, type Json } from './support/published.js';

/** The request the authorizer guards: the same event without the authorizer's own members. */
function asHttpEvent(event: Json): Json {
  const { type: _type, methodArn: _methodArn, routeArn: _routeArn, identitySource: _identitySource, authorizationToken: _token, ...rest } = event;
  return rest;
}

async function authorizerInput(name: string): Promise<AuthorizerRequest> {
  const run = await runOnAwsEntries(sample('aws', name), () => allow('p'));
  expect(run.seen[0]!.ctx.trigger.kind).toBe('authorizer');
  return run.seen[0]!.input as AuthorizerRequest;
}

async function httpRequestOf(event: Json) {
  const run = await runOnAwsEntries(event, () => ({ ok: true }));
  const trigger = run.seen[0]!.ctx.trigger;
  if (trigger.kind !== 'http') throw new Error(`expected an HTTP trigger, got ${trigger.kind}`);
  return trigger.request;
}

describe('API Gateway REQUEST authorizers read headers and query as the HTTP trigger does', () => {
  it('WebSocket $connect (apiGatewayAuthorizerWebSocketEvent.json): Sec-WebSocket-Key, listed only in multiValueHeaders, is there', async () => {
    const input = await authorizerInput('ptpy-authorizer-websocket.json');
    expect(input.headers['sec-websocket-key']).toBe('CYZZrfNgEcgzzzwL44qytQ==');
    expect(input.headers.authorization).toBe('Leo');
    const http = await httpRequestOf(asHttpEvent(sample('aws', 'ptpy-authorizer-websocket.json')));
    expect(input.headers).toEqual(http.headers);
  });

  it('REST REQUEST (apiGatewayAuthorizerRequestEvent.json): both header maps, a repeated header joined with ", "', async () => {
    const input = await authorizerInput('ptpy-authorizer-request.json');
    expect(input.headers).toMatchObject({ origin: 'https://aws.amazon.com', header1: 'value1', header2: 'value1, value2', headerauth1: 'headerValue1' });
    expect(input.query).toEqual({ QueryString1: 'queryValue1' });
    expect(input.multiQuery).toEqual({ QueryString1: ['queryValue1'] });
    const http = await httpRequestOf(asHttpEvent(sample('aws', 'ptpy-authorizer-request.json')));
    expect(input.headers).toEqual(http.headers);
    expect([input.query, input.multiQuery]).toEqual([http.query, http.multiQuery]);
  });

  it('HTTP API 2.0 (apiGatewayAuthorizerV2Event.json): the query of rawQueryString, repeated values apart; cookies joined with "; "', async () => {
    const input = await authorizerInput('ptpy-authorizer-v2.json');
    expect(input.query).toEqual({ parameter1: 'value2', parameter2: 'value' });
    expect(input.multiQuery).toEqual({ parameter1: ['value1', 'value2'], parameter2: ['value'] });
    expect(input.headers.cookie).toBe('cookie1; cookie2');
    const http = await httpRequestOf(asHttpEvent(sample('aws', 'ptpy-authorizer-v2.json')));
    expect([input.headers, input.query, input.multiQuery]).toEqual([http.headers, http.query, http.multiQuery]);
  });

  it('a REST REQUEST with a repeated query parameter: the last value, every value in multiQuery (as multiValueQueryStringParameters says)', async () => {
    const event = sample('aws', 'ptpy-authorizer-request.json');
    event.queryStringParameters = { p: 'value2' };
    event.multiValueQueryStringParameters = { p: ['value1', 'value2'] };
    const run = await runOnAwsEntries(event, () => allow('p'));
    const input = run.seen[0]!.input as AuthorizerRequest;
    expect([input.query, input.multiQuery]).toEqual([{ p: 'value2' }, { p: ['value1', 'value2'] }]);
  });
});
