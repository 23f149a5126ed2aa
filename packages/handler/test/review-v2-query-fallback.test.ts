/**
 * Powertools for AWS Lambda (Python) `tests/events/lambdaFunctionUrlEventWithHeaders.json`
 * (unchanged in test/fixtures/samples/aws/ptpy-lambdaFunctionUrlEventWithHeaders.json; see
 * SOURCES.md there): a Function URL event (payload 2.0) whose `queryStringParameters` hold the
 * query while `rawQueryString` is empty. The query was read from `rawQueryString` alone, so the
 * function saw no query parameters at all. Payload 2.0 carries the query twice (API Gateway
 * developer guide, "Create AWS Lambda proxy integrations for HTTP APIs", format 2.0:
 * `rawQueryString` and `queryStringParameters`, repeated names joined with commas); when the raw
 * text is empty, the map is what there is.
 */
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';

describe('payload 2.0 query with an empty rawQueryString', () => {
  it('lambdaFunctionUrlEventWithHeaders.json: the query parameters come from queryStringParameters', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ptpy-lambdaFunctionUrlEventWithHeaders.json'), () => ({ ok: true }));
    expect(run.answer).toMatchObject({ statusCode: 200 });
    const trigger = run.seen[0]!.ctx.trigger;
    expect(trigger).toMatchObject({ kind: 'http', source: 'function-url', request: { method: 'GET', path: '/' } });
    if (trigger.kind !== 'http') throw new Error('not http');
    expect(trigger.request.query).toEqual({ parameter1: 'value1,value2', parameter2: 'value' });
    expect(trigger.request.multiQuery).toEqual({ parameter1: ['value1,value2'], parameter2: ['value'] });
    // A GET without a body: the function's input is the query.
    expect(run.seen[0]!.input).toEqual({ parameter1: 'value1,value2', parameter2: 'value' });
    expect(trigger.request.headers).toMatchObject({ header1: 'value1', header2: 'value1,value2' });
  });
});
