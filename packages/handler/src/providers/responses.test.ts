/**
 * The rendered response on every provider, through each provider's real runtime or documented
 * contract: several values for one header and several cookies (issue 8, fault class 2), a
 * result a provider cannot send (a typed 500 everywhere), the deadline over a slow plugin
 * (issue 7: DEADLINE_EXCEEDED at the deadline, the function never started), and the
 * invocation's identity on the adapters' log lines.
 */
import { readFileSync } from 'node:fs';
import { get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpRequest, HttpResponse, InvocationContext, trigger, type FunctionTrigger, type HttpResponseInit } from '@azure/functions';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { controllerHeaders, controllerHttp, controllerParams } from '../../test/fixtures/openwhisk/controller.js';
import { handler, httpResult, type Plugin } from '../index.js';
import { advance, until, useFakeClock, useRealClock, watch } from '../../test/support/clock.js';

type Json = Record<string, any>;
const awsFixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lambdaContext = (remainingMs = 10_000) => {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId: 'req-1', functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
};

/** The result every provider must carry: a repeated header and two cookies, one given as a `set-cookie` header. */
const multi = () =>
  httpResult({
    status: 201,
    headers: { link: ['</a>; rel="a"', '</b>; rel="b"'], 'x-one': 'v', 'Set-Cookie': 'b=2; Path=/' },
    cookies: ['a=1; HttpOnly; Secure; SameSite=Lax'],
    body: { ok: true },
  });
const unsendable = () => httpResult({ headers: { 'x-note': 'line\nbreak' }, body: 'x' });
/**
 * Issue 7 (answered at 1,504 ms against a 1,000 ms deadline), on a fake clock so the bound is met
 * to the millisecond however loaded the machine (test/support/clock.ts): `call` starts an
 * invocation whose plugin's `before` takes 1,500 ms, with a 1,000 ms deadline and a 100 ms
 * margin. The answer must come at 900 ms exactly, the `before` still running, and the function
 * must never start. Returns the answer.
 */
async function answeredAtTheDeadline<T>(call: (slow: Plugin, fn: () => void) => Promise<T>): Promise<T> {
  useFakeClock();
  try {
    const before = { entered: false, done: false, finallyAt: undefined as number | undefined };
    const slow: Plugin = {
      name: 'slow',
      before: async () => {
        before.entered = true;
        await sleep(1_500);
        before.done = true;
      },
      // Runs in this process as the wrapper answers, before the answer travels anywhere.
      finally: () => void (before.finallyAt ??= Date.now()),
    };
    let started = false;
    const at = Date.now();
    const answer = watch(call(slow, () => void (started = true)));
    // Over a socket (Cloud Functions) the request reaches the handler on real event-loop turns; the clock stands still.
    await until(() => before.entered || answer.settled);
    await advance(899);
    expect([before.finallyAt, answer.settled]).toEqual([undefined, false]);
    await advance(1);
    expect(before.finallyAt! - at).toBe(900);
    // The answer may still be on its way back over the socket: the clock stays at 900 ms meanwhile.
    await answer.done;
    expect(answer.at! - at).toBe(900);
    expect(before.done).toBe(false);
    await advance(700);
    expect([before.done, started]).toEqual([true, false]);
    if (answer.error !== undefined) throw answer.error;
    return answer.value!;
  } finally {
    await useRealClock();
  }
}

function logs() {
  const lines: string[] = [];
  return { lines, sink: (line: string) => lines.push(line), entries: () => lines.map((l) => JSON.parse(l) as Json) };
}

describe('AWS Lambda', () => {
  const main = handler({ logSink: () => undefined }, () => multi());

  it('HTTP API (v2) and Function URLs: repeated headers joined, cookies in `cookies`', async () => {
    for (const event of [awsFixture('apigw-v2-post.json'), awsFixture('function-url-get.json')]) {
      const res = (await main.aws(event, lambdaContext())) as Json;
      expect(res.statusCode).toBe(201);
      expect(res.headers).toEqual({ link: '</a>; rel="a", </b>; rel="b"', 'x-one': 'v', 'content-type': 'application/json' });
      expect(res.cookies).toEqual(['a=1; HttpOnly; Secure; SameSite=Lax', 'b=2; Path=/']);
      expect(res.multiValueHeaders).toBeUndefined();
    }
  });

  it('REST API (v1): repeated headers and every cookie in `multiValueHeaders`, never comma-folded', async () => {
    const res = (await main.aws(awsFixture('apigw-v1-post.json'), lambdaContext())) as Json;
    expect(res.headers).toEqual({ 'x-one': 'v', 'content-type': 'application/json' });
    expect(res.multiValueHeaders).toEqual({ link: ['</a>; rel="a"', '</b>; rel="b"'], 'set-cookie': ['a=1; HttpOnly; Secure; SameSite=Lax', 'b=2; Path=/'] });
  });

  it('ALB with multi-value headers: everything in `multiValueHeaders`; without: one value per name, one cookie at most', async () => {
    const mv = (await main.aws(awsFixture('alb-multi-value-post.json'), lambdaContext())) as Json;
    expect(mv.headers).toBeUndefined();
    expect(mv.statusDescription).toBe('201 Created');
    expect(mv.multiValueHeaders).toEqual({
      link: ['</a>; rel="a"', '</b>; rel="b"'],
      'x-one': ['v'],
      'content-type': ['application/json'],
      'set-cookie': ['a=1; HttpOnly; Secure; SameSite=Lax', 'b=2; Path=/'],
    });
    const single = handler({ logSink: () => undefined }, () => httpResult({ headers: { link: ['<a>', '<b>'] }, cookies: ['a=1'] }));
    const one = (await single.aws(awsFixture('alb-get.json'), lambdaContext())) as Json;
    expect(one.headers).toEqual({ link: '<a>, <b>', 'set-cookie': 'a=1' });
    // Two cookies cannot be sent without multi-value headers (the ALB keeps the last): a typed 500, not a lost cookie.
    const two = (await main.aws(awsFixture('alb-get.json'), lambdaContext())) as Json;
    expect(two.statusCode).toBe(500);
    expect(two.statusDescription).toBe('500 Internal Server Error');
    expect(JSON.parse(two.body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
  });

  it('a header value with a line break is a typed 500 on every event shape', async () => {
    const bad = handler({ logSink: () => undefined }, unsendable);
    for (const name of ['apigw-v2-post.json', 'apigw-v1-post.json', 'alb-get.json', 'alb-multi-value-post.json', 'function-url-get.json']) {
      const res = (await bad.aws(awsFixture(name), lambdaContext())) as Json;
      expect([name, res.statusCode, JSON.parse(res.body).code]).toEqual([name, 500, 'INVALID_HTTP_RESULT']);
    }
  });

  it('a slow before answers 504 DEADLINE_EXCEEDED at the deadline; the function never starts', async () => {
    const res = (await answeredAtTheDeadline((slow, fn) =>
      handler({ use: [slow], deadlineMarginMs: 100, logSink: () => undefined }, fn).aws(awsFixture('apigw-v2-post.json'), lambdaContext(1_000)),
    )) as Json;
    expect(res.statusCode).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});

describe('Google Cloud Functions (Functions Framework test server)', () => {
  const servers: Server[] = [];
  let counter = 0;
  const saved = process.env.CLOUD_RUN_TIMEOUT_SECONDS;
  beforeEach(() => {
    delete process.env.CLOUD_RUN_TIMEOUT_SECONDS;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CLOUD_RUN_TIMEOUT_SECONDS;
    else process.env.CLOUD_RUN_TIMEOUT_SECONDS = saved;
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  async function serve(fn: (...args: any[]) => unknown): Promise<string> {
    const name = `responses-${++counter}`;
    functions.http(name, fn as functions.HttpFunction);
    const server = getTestServer(name);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The response as it went over the wire: raw header lines in order. */
  function fetchRaw(url: string, headers: Record<string, string> = {}): Promise<{ status: number; lines: Array<[string, string]>; body: string }> {
    return new Promise((resolve, reject) => {
      httpGet(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const lines: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
          resolve({ status: res.statusCode ?? 0, lines, body: Buffer.concat(chunks).toString('utf8') });
        });
      }).on('error', reject);
    });
  }

  it('sends a header line per value and a Set-Cookie line per cookie', async () => {
    const url = await serve(handler({ logSink: () => undefined }, () => multi()));
    const res = await fetchRaw(`${url}/orders`);
    expect(res.status).toBe(201);
    expect(res.lines.filter(([n]) => n === 'link').map(([, v]) => v)).toEqual(['</a>; rel="a"', '</b>; rel="b"']);
    expect(res.lines.filter(([n]) => n === 'set-cookie').map(([, v]) => v)).toEqual(['a=1; HttpOnly; Secure; SameSite=Lax', 'b=2; Path=/']);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });

  it('answers a result it cannot send with a typed 500, logged with the request id and coldStart', async () => {
    const log = logs();
    const url = await serve(handler({ logSink: log.sink, logLevel: 'error' }, unsendable));
    const res = await fetchRaw(`${url}/orders`, { 'Function-Execution-Id': 'exec-77' });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    expect(log.entries()).toContainEqual(expect.objectContaining({ msg: 'invocation failed', code: 'INVALID_HTTP_RESULT', field: 'headers.x-note', requestId: 'exec-77', provider: 'gcp', coldStart: expect.any(Boolean) }));
  });

  it('a slow before answers 504 DEADLINE_EXCEEDED at the deadline; the function never starts', async () => {
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '1';
    const res = await answeredAtTheDeadline(async (slow, fn) => fetchRaw(`${await serve(handler({ use: [slow], deadlineMarginMs: 100, logSink: () => undefined }, fn))}/orders`));
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});

describe('Azure Functions (@azure/functions objects)', () => {
  function call(): { req: HttpRequest; ctx: InvocationContext } {
    const req = new HttpRequest({ method: 'GET', url: 'https://app.azurewebsites.net/api/orders' });
    const ctx = new InvocationContext({
      invocationId: 'inv-9',
      functionName: 'orders',
      options: { trigger: { ...trigger.http({ methods: ['GET'] }), direction: 'in' } as FunctionTrigger, extraInputs: [], extraOutputs: [] },
      logHandler: () => undefined,
    });
    return { req, ctx };
  }

  it('hands the worker one cookie object per cookie (one Set-Cookie each) and joins other repeated headers', async () => {
    const { req, ctx } = call();
    const init = (await handler({ logSink: () => undefined }, () => multi())(req, ctx)) as HttpResponseInit;
    const res = new HttpResponse(init);
    expect(res.status).toBe(201);
    expect(res.headers.get('link')).toBe('</a>; rel="a", </b>; rel="b"');
    expect(res.headers.has('set-cookie')).toBe(false);
    expect(res.cookies).toEqual([
      { name: 'a', value: '1', httpOnly: true, secure: true, sameSite: 'Lax' },
      { name: 'b', value: '2', path: '/' },
    ]);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers a typed 500 for a header value with a line break, and for a cookie the worker cannot express', async () => {
    const log = logs();
    for (const fn of [unsendable, () => httpResult({ cookies: ['id=1; Partitioned; Secure'] })]) {
      const { req, ctx } = call();
      const init = (await handler({ logSink: log.sink, logLevel: 'error' }, fn)(req, ctx)) as HttpResponseInit;
      const res = new HttpResponse(init);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    }
    expect(log.entries().map((e) => [e.requestId, e.provider, e.field])).toEqual([
      ['inv-9', 'azure', 'headers.x-note'],
      ['inv-9', 'azure', 'cookies'],
    ]);
  });

  it('a slow before answers 504 DEADLINE_EXCEEDED at the deadline; the function never starts', async () => {
    const { req, ctx } = call();
    const init = await answeredAtTheDeadline((slow, fn) => handler({ use: [slow], timeoutMs: 1_000, deadlineMarginMs: 100, logSink: () => undefined }, fn)(req, ctx));
    const res = new HttpResponse(init as HttpResponseInit);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});

describe('Apache OpenWhisk (web action contract)', () => {
  const saved = { id: process.env.__OW_ACTIVATION_ID, deadline: process.env.__OW_DEADLINE };
  beforeEach(() => {
    process.env.__OW_ACTIVATION_ID = 'act-5';
    process.env.__OW_DEADLINE = String(Date.now() + 60_000);
  });
  afterEach(() => {
    for (const [key, value] of [['__OW_ACTIVATION_ID', saved.id], ['__OW_DEADLINE', saved.deadline]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('returns repeated headers and cookies as lists: the controller sends a line per value', async () => {
    const result = (await handler({ logSink: () => undefined }, () => multi()).openwhisk(controllerParams({ method: 'GET' }, true))) as Json;
    expect(controllerHeaders(result)).toEqual([
      ['link', '</a>; rel="a"'],
      ['link', '</b>; rel="b"'],
      ['x-one', 'v'],
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1; HttpOnly; Secure; SameSite=Lax'],
      ['set-cookie', 'b=2; Path=/'],
    ]);
    expect(controllerHttp(result)).toMatchObject({ status: 201 });
  });

  it('answers a result it cannot send with a typed 500 (an error result)', async () => {
    const result = (await handler({ logSink: () => undefined }, unsendable).openwhisk(controllerParams({ method: 'GET' }, false))) as Json;
    expect(result.error).toMatchObject({ statusCode: 500 });
    expect(JSON.parse(controllerHttp(result).body.toString('utf8'))).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
  });

  it('a slow before answers 504 DEADLINE_EXCEEDED at __OW_DEADLINE; the function never starts', async () => {
    const result = (await answeredAtTheDeadline((slow, fn) => {
      process.env.__OW_DEADLINE = String(Date.now() + 1_000);
      return handler({ use: [slow], deadlineMarginMs: 100, logSink: () => undefined }, fn).openwhisk(controllerParams({ method: 'GET' }, true));
    })) as Json;
    expect(controllerHttp(result).status).toBe(504);
    expect(JSON.parse(controllerHttp(result).body.toString('utf8'))).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});
