/**
 * The idempotency plugin on the rebuilt handler core, against real Redis: the regressions of
 * issue 7 (a claim answering after the deadline; an unsendable HTTP result with
 * `cacheErrors: false`; the rendered response stored once) and issue 9 (two Idempotency-Key
 * headers; `onConcurrent: 'wait'` bounded by the deadline, not the lease).
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { HttpRequest, HttpResponse, InvocationContext, trigger, type FunctionTrigger, type HttpResponseInit } from '@azure/functions';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { handler, httpResult } from '@steadyfn/handler';
import { idempotency, memoryStore, REPLAYED_HEADER, type IdempotencyStore } from '../src/index.js';
import { eventually, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const backend = useBackend('redis');

describe('a claim that answers after the deadline (issue 7)', () => {
  it('never starts the function: the timed-out attempt has no effect, the retry has the only one', async () => {
    let effects = 0;
    let slowNext = true;
    let lateClaim: 'waiting' | 'sent' | 'landed' = 'waiting';
    // The first claim reaches Redis only 1 s after the invocation's 3 s deadline.
    const late: IdempotencyStore = {
      ...backend.store,
      claim: async (request, options) => {
        if (!slowNext) return backend.store.claim(request, options);
        slowNext = false;
        await sleep(4_000);
        lateClaim = 'sent';
        try {
          return await backend.store.claim(request, options);
        } finally {
          lateClaim = 'landed';
        }
      },
    };
    const main = handler({ name: 'late', logSink: silentSink(), use: [idempotency({ store: late, ttlMs: 3_600_000, localCache: false })] }, () => {
      effects++;
      return { charged: true };
    });
    const deliveryId = randomUUID();
    const first = await main.invoke({ amount: 5 }, { deliveryId, deadline: Date.now() + 3_000 }).catch((e: { code: string }) => e);
    expect(first).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    // Answered at the deadline, not after the claim: that was not even sent yet. (An order of
    // events, not elapsed time, which a loaded machine stretches.)
    expect(lateClaim).toBe('waiting');
    // Let the late claim land (its lease, capped by the dead attempt's deadline, is 1 ms: let it lapse).
    await eventually(() => lateClaim === 'landed', 20_000);
    await sleep(50);
    expect(effects).toBe(0);
    // The provider's retry runs it once; a further retry replays.
    expect(await main.invoke({ amount: 5 }, { deliveryId, deadline: Date.now() + 30_000 })).toEqual({ charged: true });
    expect(await main.invoke({ amount: 5 }, { deliveryId, deadline: Date.now() + 30_000 })).toEqual({ charged: true });
    expect(effects).toBe(1);
  });
});

describe('an HTTP result the provider cannot send (issue 7)', () => {
  it('the function returned (its effects done): the 500 is stored, whatever cacheErrors says, and replayed instead of running the function again', async () => {
    let runs = 0;
    const main = handler({ name: 'unsendable', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, () => {
      runs++;
      return httpResult({ headers: { 'x-trace': 'a\nb' }, body: { n: runs } });
    });
    const key = randomUUID();
    for (let i = 0; i < 2; i++) {
      const res = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as Json;
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
      expect(res.headers[REPLAYED_HEADER]).toBe(i === 0 ? undefined : 'true');
    }
    // Stored as a terminal error: released, each retry ran the function's effects again to be refused again.
    expect(runs).toBe(1);
  });
});

describe('the stored HTTP response is the rendered one', () => {
  it('replays status, repeated headers, cookies and body byte for byte, marked as a replay', async () => {
    let runs = 0;
    const main = handler({ name: 'cookies', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, () => {
      runs++;
      return httpResult({ status: 201, headers: { link: ['<a>', '<b>'] }, cookies: ['sid=1; HttpOnly', 'theme=dark'], body: { id: 7 } });
    });
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as Json;
    const again = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as Json;
    expect(runs).toBe(1);
    expect(first).toMatchObject({ statusCode: 201, cookies: ['sid=1; HttpOnly', 'theme=dark'], body: '{"id":7}' });
    expect(again).toEqual({ ...first, headers: { ...first.headers, [REPLAYED_HEADER]: 'true' } });
  });

  it('serialises the body once: the record keeps the rendered text, not a second encoding of the result', async () => {
    const original = JSON.stringify;
    const bodies: unknown[] = [];
    const spy = vi.spyOn(JSON, 'stringify').mockImplementation((...args: Parameters<typeof JSON.stringify>) => {
      bodies.push(args[0]);
      return original(...args);
    });
    try {
      const main = handler({ name: 'once', logSink: silentSink(), use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000 })] }, () => ({ big: 'x'.repeat(100) }));
      await main.aws(httpEvent({ key: randomUUID(), body: { a: 1 } }), lambdaContext());
    } finally {
      spy.mockRestore();
    }
    // The function's result is stringified by the one render; the record encodes the rendered response.
    expect(bodies.filter((b) => typeof b === 'object' && b !== null && 'big' in b)).toHaveLength(1);
  });
});

describe('two Idempotency-Key headers (issue 9, item 6)', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  const make = () => {
    let runs = 0;
    const main = handler({ name: 'ambiguous', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000 })] }, () => ++runs);
    return { main, runs: () => runs };
  };

  it('REST API (v1) multiValueHeaders: 400 IDEMPOTENCY_KEY_AMBIGUOUS, not the key "a, b"; nothing runs', async () => {
    const { main, runs } = make();
    const event = {
      resource: '/orders',
      path: '/orders',
      httpMethod: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'b' },
      multiValueHeaders: { 'Content-Type': ['application/json'], 'Idempotency-Key': ['a', 'b'] },
      requestContext: { requestId: randomUUID(), identity: { sourceIp: '127.0.0.1' } },
      body: '{}',
      isBase64Encoded: false,
    };
    const res = (await main.aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_AMBIGUOUS', errors: [{ field: 'headers.idempotency-key' }] });
    expect(runs()).toBe(0);
  });

  it('the header repeated on the Functions Framework (real HTTP) and on an Azure request: the same 400', async () => {
    const { main, runs } = make();
    const name = `ambiguous-${randomUUID()}`;
    functions.http(name, main as unknown as functions.HttpFunction);
    const server = getTestServer(name);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const gcf = await new Promise<{ status: number; body: Json }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/orders', headers: { 'content-type': 'application/json', 'idempotency-key': ['k-1', 'k-2'] } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Json }));
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(gcf).toMatchObject({ status: 400, body: { code: 'IDEMPOTENCY_KEY_AMBIGUOUS' } });

    const headers = new Headers({ 'content-type': 'application/json' });
    headers.append('Idempotency-Key', 'k-1');
    headers.append('Idempotency-Key', 'k-2');
    const req = new HttpRequest({ method: 'POST', url: 'https://app.azurewebsites.net/api/orders', headers: Object.fromEntries(headers), body: { string: '{}' } });
    const ctx = new InvocationContext({
      invocationId: randomUUID(),
      functionName: 'orders',
      options: { trigger: { ...trigger.http({ methods: ['POST'] }), direction: 'in' } as FunctionTrigger, extraInputs: [], extraOutputs: [] },
      logHandler: () => undefined,
    });
    const azure = new HttpResponse((await main(req, ctx)) as HttpResponseInit);
    expect(azure.status).toBe(400);
    expect(await azure.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_AMBIGUOUS' });
    expect(runs()).toBe(0);
  });
});

describe("onConcurrent: 'wait' is bounded by the deadline, not the lease (issue 9, item 8)", () => {
  it('waiters with a 3 s lease and a 30 s deadline wait 4.5 s for the first: all twelve callers get its result, one effect', async () => {
    // (It was one handler with a 3 s lease whose first call took 2.9 s: on a loaded machine the
    // claim-to-completion passed 3 s, the lease ran out, and a waiter rightly took the key over
    // and ran a second effect. Here the first holds its key long past its work, and the waiters'
    // own lease, which a wait must not be bounded by, is 1.5 s shorter than that work.)
    let effects = 0;
    const work = async () => {
      effects++;
      await sleep(4_500);
      return { receipt: 'r-1' };
    };
    const plugin = (leaseMs: number) => idempotency({ store: backend.store, ttlMs: 3_600_000, leaseMs, onConcurrent: 'wait', localCache: false });
    const first = handler({ name: 'waiters', logSink: silentSink(), use: [plugin(60_000)] }, work);
    const duplicates = handler({ name: 'waiters', logSink: silentSink(), use: [plugin(3_000)] }, work);
    const key = randomUUID();
    const call = (main: typeof first) => main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext(randomUUID(), 'orders', 30_000)) as Promise<Json>;
    const firstAnswer = call(first);
    await eventually(() => effects === 1); // it holds the key before the eleven duplicates arrive
    const results = await Promise.all([firstAnswer, ...Array.from({ length: 11 }, () => call(duplicates))]);
    expect(effects).toBe(1);
    expect(results.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    expect(results.every((r) => JSON.parse(r.body).receipt === 'r-1')).toBe(true);
    expect(results.filter((r) => r.headers[REPLAYED_HEADER] === 'true')).toHaveLength(11);
  });
});
