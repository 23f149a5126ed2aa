/**
 * Review finding (rva): an ALB passes query names and values still percent-encoded, and the
 * adapter decoded them into a new map with `Object.fromEntries`, so two names that decode to
 * the same text (`a+b` and `a%20b` are both `a b`) overwrote each other: the function saw
 * `{ 'a b': ['2'] }` for `?a+b=1&a%20b=2`, a value was lost, and two different queries
 * (`?a+b=1&a%20b=2` and `?a%20b=2`) had the same input — one idempotency fingerprint. An HTTP
 * API, which parses `rawQueryString` whole, gives `['1', '2']`. Names that decode alike are now
 * one parameter, their values appended in arrival order, in both ALB forms (multi-value
 * headers on: `multiValueQueryStringParameters`; off: `queryStringParameters`).
 *
 * Driven with aws-lambda-go's `alb-lambda-target-request-multivalue-headers.json` and
 * `alb-lambda-target-request-headers-only.json` (test/fixtures/samples/aws, see SOURCES.md).
 */
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';
import type { HttpRequest } from '../src/index.js';

async function requestOf(event: Record<string, unknown>): Promise<{ request: HttpRequest; input: unknown }> {
  const run = await runOnAwsEntries(event, () => 'ok');
  expect(run.answer).toMatchObject({ statusCode: 200 });
  const trigger = run.seen[0]!.ctx.trigger;
  if (trigger.kind !== 'http') throw new Error(`not http: ${trigger.kind}`);
  expect(trigger.source).toBe('alb');
  return { request: trigger.request, input: run.seen[0]!.input };
}

describe('ALB: query names that decode to the same text are one parameter', () => {
  it('multi-value form: every value of a+b and a%20b is kept, in order', async () => {
    const event = sample('aws', 'lgo-alb-lambda-target-request-multivalue-headers.json');
    event.multiValueQueryStringParameters = { 'a+b': ['1'], 'a%20b': ['2', '3'], c: ['x%2By'] };
    const { request, input } = await requestOf(event);
    expect(request.multiQuery).toEqual({ 'a b': ['1', '2', '3'], c: ['x+y'] });
    expect(request.query).toEqual({ 'a b': '3', c: 'x+y' });
    // A GET without a body: the query is the input, so the two spellings are not one request.
    expect(input).toEqual({ 'a b': ['1', '2', '3'], c: 'x+y' });
  });

  it('single-value form: a+b=1 and a%20b=2 are both values of "a b"', async () => {
    const event = sample('aws', 'lgo-alb-lambda-target-request-headers-only.json');
    event.queryStringParameters = { 'a+b': '1', 'a%20b': '2' };
    delete event.multiValueQueryStringParameters;
    const { request } = await requestOf(event);
    expect(request.multiQuery).toEqual({ 'a b': ['1', '2'] });
    expect(request.query).toEqual({ 'a b': '2' });
  });

  it('(control) a malformed escape is kept as it came, a lone name decodes as before', async () => {
    const event = sample('aws', 'lgo-alb-lambda-target-request-headers-only.json');
    event.queryStringParameters = { 'p%': '100%', 'q%5B%5D': 'a%26b' };
    delete event.multiValueQueryStringParameters;
    const { request } = await requestOf(event);
    expect(request.multiQuery).toEqual({ 'p%': ['100%'], 'q[]': ['a&b'] });
    expect(request.query).toEqual({ 'p%': '100%', 'q[]': 'a&b' });
  });
});
