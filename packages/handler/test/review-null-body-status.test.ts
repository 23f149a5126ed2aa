/**
 * Review finding: a web action answering 204 No Content or 304 Not Modified with a body — a
 * JSON value, or `httpResult({ status: 304, headers: { etag }, body })` from a function whose
 * body a conditional GET should drop — reached the OpenWhisk controller with that body, and the
 * controller failed while completing the response (akka-http's `HttpResponse` requires an empty
 * entity for statuses registered `allowsEntity = false`): the client got a 500 instead of the
 * function's 204/304 (test/fixtures/openwhisk/controller.ts, `ControllerFailed`). The other
 * providers already send these statuses without a body: the Functions Framework (Express) drops
 * it, the Azure adapter leaves it out. The OpenWhisk web result now leaves it out too (and for
 * 205, which RFC 9110 §15.3.6 says carries no content), keeping the status and headers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, httpResult } from '../src/index.js';
import { controllerHeaders, controllerHttp, controllerParams } from './fixtures/openwhisk/controller.js';

type Json = Record<string, any>;
const saved = { id: process.env.__OW_ACTIVATION_ID, deadline: process.env.__OW_DEADLINE };
beforeEach(() => {
  process.env.__OW_ACTIVATION_ID = 'act-null-body';
  process.env.__OW_DEADLINE = String(Date.now() + 60_000);
});
afterEach(() => {
  for (const [key, value] of [['__OW_ACTIVATION_ID', saved.id], ['__OW_DEADLINE', saved.deadline]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('OpenWhisk web action: statuses that carry no body', () => {
  it.each([
    ['204 with a text body', httpResult({ status: 204, body: 'done' })],
    ['204 with a JSON body', httpResult({ status: 204, body: { deleted: true } })],
    ['304 with a JSON body and an ETag', httpResult({ status: 304, headers: { etag: '"v1"' }, body: { id: 1 } })],
    ['304 with bytes', httpResult({ status: 304, headers: { etag: '"v2"' }, body: Buffer.from([1, 2, 3]) })],
  ])('%s: the controller sends the status and headers, without a body', async (_label, result) => {
    for (const raw of [false, true]) {
      const answer = (await handler({ logSink: () => undefined }, () => result).openwhisk(controllerParams({ method: 'GET' }, raw))) as Json;
      const sent = controllerHttp(answer);
      expect(sent.status).toBe(result.status);
      expect(sent.body.length).toBe(0);
      const etag = (result.headers as Record<string, string>).etag;
      if (etag !== undefined) expect(controllerHeaders(answer)).toContainEqual(['etag', etag]);
    }
  });

  it('205 Reset Content leaves its body out as well (RFC 9110 §15.3.6)', async () => {
    const answer = (await handler({ logSink: () => undefined }, () => httpResult({ status: 205, body: 'reset' })).openwhisk(controllerParams({ method: 'POST' }, false))) as Json;
    expect(answer.body).toBeUndefined();
    expect(controllerHttp(answer).status).toBe(205);
  });

  it('a 200 keeps its body', async () => {
    const answer = (await handler({ logSink: () => undefined }, () => ({ ok: true })).openwhisk(controllerParams({ method: 'GET' }, false))) as Json;
    expect(JSON.parse(controllerHttp(answer).body.toString('utf8'))).toEqual({ ok: true });
  });
});
