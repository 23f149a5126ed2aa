/**
 * middyjs/middy#1197 ("http-error-handler: set custom test to return error instead of
 * `statusCode`") and middyjs/middy#575
 * https://github.com/middyjs/middy/issues/1197
 *
 * middy's HTTP error handler decides that an error is a client error — and sends its message
 * to the caller — from its `statusCode` alone. Other libraries put a `statusCode` on their own
 * errors (the report: an ORM's MySQL error), so a database error's message, with table and
 * column names, reached API clients as a 4xx.
 *
 * steadyfn exposes only its own errors (or an object carrying every field of one: `code`,
 * `status`, `retryable`, `expose`, `message`). Replayed: a function that throws a driver error
 * shaped like the report's (`statusCode: 400`, `status: 400`, an `ER_DUP_ENTRY` code and SQL in
 * its message) and an `http-errors`-style `{ status: 422, expose: true }` error, through API
 * Gateway v2; each is answered `500 INTERNAL` without the message, the SQL or a stack.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { lambdaContext, type Json } from './support.js';

const SECRET = "Duplicate entry 'ann@example.com' for key 'users.email' (INSERT INTO users ...)";

function dbError(): Error {
  return Object.assign(new Error(`ER_DUP_ENTRY: ${SECRET}`), { code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000', statusCode: 400, status: 400 });
}

function httpErrorsLike(): Error {
  return Object.assign(new Error(`Unprocessable: ${SECRET}`), { status: 422, statusCode: 422, expose: true });
}

const post: Json = {
  version: '2.0',
  routeKey: 'POST /users',
  rawPath: '/users',
  rawQueryString: '',
  headers: { host: 'api.example.com', 'content-type': 'application/json' },
  requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'api.example.com', http: { method: 'POST', path: '/users', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8.5.0' }, requestId: 'r-1', routeKey: 'POST /users', stage: '$default', time: '14/Mar/2025:10:02:11 +0000', timeEpoch: 1741946531000 },
  body: '{"email":"ann@example.com"}',
  isBase64Encoded: false,
};

describe("middy#1197: a library's error with a statusCode does not reach the caller", () => {
  it.each([
    ['a MySQL driver error with statusCode 400', dbError],
    ['an http-errors style error with status 422 and expose: true', httpErrorsLike],
  ])('%s: answered 500 INTERNAL, no message, SQL or stack', async (_label, make) => {
    const logged: string[] = [];
    const main = handler({ logSink: (line) => void logged.push(line) }, () => {
      throw make();
    });
    const res = (await main.aws(post, lambdaContext())) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(res.body).not.toContain('ann@example.com');
    expect(res.body).not.toContain('users.email');
    expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
    // Nor is the message logged: the failure line names the cause's class and code only.
    expect(logged.join('\n')).not.toContain('ann@example.com');
  });
});
