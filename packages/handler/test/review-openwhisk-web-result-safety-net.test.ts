/**
 * `webResult` (providers/openwhisk-web.ts) checks once more, as the web action result is made,
 * what `render()` already checked for the function's result and every `{ answer }`: a status
 * the controller can send, a body it can send unmangled. Both branches had no test. Both are
 * reachable, by responses `render()` never saw:
 *
 * - status: a thrown error's status is rendered by `renderError` (any 200–599), not checked
 *   against the controller's registry — `httpError(499, …)` would reach the controller, which
 *   answers 400 "did not produce a valid response" for it;
 * - body: an `after` that changes the rendered response in place (no `{ answer }`) after it
 *   passed the check (read-only in its type, not at run time) — bytes not valid in their
 *   charset would be sent as U+FFFD.
 *
 * Either is answered 500 `INVALID_HTTP_RESULT`, logged with the part at fault and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { handler, httpError, type Plugin } from '../src/index.js';
import { controllerHttp } from './fixtures/openwhisk/controller.js';

const web = { __ow_method: 'get', __ow_headers: {}, __ow_path: '' };
type Json = Record<string, any>;

function logged(lines: string[]): Json[] {
  return lines.map((line) => JSON.parse(line) as Json).filter((r) => r.msg === 'HTTP result cannot be sent');
}

describe('webResult, the last check before the controller', () => {
  it('a thrown error whose status the controller refuses (499): 500 INVALID_HTTP_RESULT, logged with field status', async () => {
    const lines: string[] = [];
    const main = handler({ logSink: (line) => lines.push(line) }, () => {
      throw httpError(499, 'CLIENT_GONE', 'the client went away (secret=hunter2)');
    });
    const result = (await main.openwhisk(web)) as Json;
    expect(result.error).toMatchObject({ statusCode: 500, headers: { 'content-type': 'application/problem+json' } });
    expect(result.error.body.code).toBe('INVALID_HTTP_RESULT');
    expect(controllerHttp(result).status).toBe(500);
    expect(logged(lines)).toEqual([expect.objectContaining({ level: 'error', code: 'INVALID_HTTP_RESULT', field: 'status' })]);
    expect(JSON.stringify(result) + lines.join('\n')).not.toMatch(/hunter2/);
  });

  it('an after that changes the rendered response in place to bytes its charset cannot carry: 500 INVALID_HTTP_RESULT, logged with field body', async () => {
    const lines: string[] = [];
    const inPlace: Plugin = {
      name: 'in-place',
      after: (_ctx, result) => {
        // Read-only in its type (`HttpResponse`), not at run time: a plugin in JavaScript, or one that casts.
        const res = result as { headers: Record<string, string>; isBase64: boolean; body: string };
        res.headers['content-type'] = 'text/plain; charset=utf-8';
        res.isBase64 = true;
        res.body = Buffer.from([0x41, 0xff, 0xfe]).toString('base64');
      },
    };
    const result = (await handler({ use: [inPlace], logSink: (line) => lines.push(line) }, () => 'hello').openwhisk(web)) as Json;
    expect(result.error).toMatchObject({ statusCode: 500, headers: { 'content-type': 'application/problem+json' } });
    expect(result.error.body.code).toBe('INVALID_HTTP_RESULT');
    expect(controllerHttp(result).body.toString()).not.toContain('\uFFFD');
    expect(logged(lines)).toEqual([expect.objectContaining({ level: 'error', code: 'INVALID_HTTP_RESULT', field: 'body' })]);
  });

  it('(control) a sendable response passes unchanged, and nothing is logged', async () => {
    const lines: string[] = [];
    const result = (await handler({ logSink: (line) => lines.push(line) }, () => 'hello').openwhisk(web)) as Json;
    expect(result).toMatchObject({ statusCode: 200, body: 'hello' });
    expect(logged(lines)).toEqual([]);
  });
});
