/**
 * The Azure adapter with the real `@azure/functions` v4 objects. Outside the Functions host
 * the library runs in test mode: `HttpRequest`, `HttpResponse` and `InvocationContext` are
 * the real classes (the host builds the same ones from its RPC messages), trigger options
 * come from the library's own `trigger.*` builders, and triggerMetadata has the keys the
 * worker hands over (the host's binding data, first letter lower-cased).
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app, HttpRequest, HttpResponse, InvocationContext, trigger, type FunctionTrigger, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { handler, httpResult, type Context, type Plugin } from '../index.js';
import { binaryBody } from '../../test/support/bytes.js';

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/azure/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

/** An InvocationContext as the worker builds it: identity, trigger options, trigger metadata. */
function invocationContext(base: Record<string, any>, options: FunctionTrigger, overrides: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({
    invocationId: base.invocationId,
    functionName: base.functionName,
    options: { trigger: { ...options, direction: 'in' } as FunctionTrigger },
    ...(base.triggerMetadata ? { triggerMetadata: structuredClone(base.triggerMetadata) } : {}),
    logHandler: () => undefined,
    ...overrides,
  });
}

function httpCall(over: Record<string, unknown> = {}): { req: HttpRequest; ctx: InvocationContext } {
  const f = fixture('http-request.json');
  const req = new HttpRequest({ ...f.request, ...over });
  const ctx = invocationContext(f.context, trigger.http({ methods: ['POST'], authLevel: 'function', route: 'orders' }));
  return { req, ctx };
}

const silent = { logSink: () => undefined };
const Order = z.object({ orderId: z.string(), quantity: z.number().int().positive() });
const Payment = z.object({ paymentId: z.string(), amountCents: z.number().int().positive() });

/** The host turns the returned HttpResponseInit into a Fetch Response exactly like this. */
async function asHost(init: unknown): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = new HttpResponse(init as HttpResponseInit);
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Azure HTTP trigger', () => {
  it('runs a JSON POST through the unified handler; the host accepts the answer', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order, ...silent }, (input, ctx) => {
      seen.push(ctx);
      return { accepted: input.orderId };
    });
    const { req, ctx } = httpCall();
    const init = await main(req, ctx);
    const res = await asHost(init);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(res.bytes.toString('utf8'))).toEqual({ accepted: 'o-3003' });
    const c = seen[0]!;
    expect(c.provider).toBe('azure');
    expect(c.requestId).toBe('e7f9a1b3-c5d7-4e9f-a1b3-c5d7e9f1a3b5');
    expect(c.functionName).toBe('createOrder');
    expect(c.deliveryId).toBeUndefined();
    expect(c.trigger).toMatchObject({
      kind: 'http',
      source: 'azure-http',
      request: { method: 'POST', path: '/api/orders', query: { source: 'mobile' }, headers: { 'x-ms-client-request-id': '9f3b5e1a-2c4d-4e6f-8a0b-1c2d3e4f5a6b' } },
    });
  });

  it('reads a body given as bytes and a query the host passes apart from the URL', async () => {
    const seen: unknown[] = [];
    const main = handler({ ...silent }, (input) => void seen.push(input));
    const body = new TextEncoder().encode('{"orderId":"o-1","quantity":2}');
    const { req, ctx } = httpCall({ body: { bytes: body } });
    expect((await asHost(await main.azure(req, ctx))).status).toBe(204);
    expect(seen).toEqual([{ orderId: 'o-1', quantity: 2 }]);

    const get = new HttpRequest({ method: 'GET', url: 'https://steady-demo.azurewebsites.net/api/search', query: { q: 'lamp' } });
    expect(get.query.get('q')).toBe('lamp');
    await main.azure(get, invocationContext({ invocationId: 'i-2', functionName: 'search' }, trigger.http({})));
    expect(seen[1]).toEqual({ q: 'lamp' });
  });

  it('hands a binary body to the function byte for byte, as a Buffer and as rawBytes', async () => {
    const seen: Array<{ input: Buffer; rawBytes: Buffer | undefined }> = [];
    const main = handler({ input: z.instanceof(Buffer), ...silent }, (input, ctx) => {
      seen.push({ input, rawBytes: ctx.trigger.kind === 'http' ? ctx.trigger.request.rawBytes : undefined });
      return httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: input });
    });
    for (const type of ['application/octet-stream', 'image/png']) {
      const bytes = binaryBody();
      const { req, ctx } = httpCall({ headers: { 'content-type': type }, body: { bytes } });
      const res = await asHost(await main.azure(req, ctx));
      expect(res.status).toBe(200);
      expect(res.bytes.equals(bytes)).toBe(true);
      const got = seen.pop()!;
      expect(Buffer.isBuffer(got.input)).toBe(true);
      expect(got.input.equals(bytes)).toBe(true);
      expect(got.rawBytes).toBe(got.input);
    }
  });

  it('reads a streamed body (the host with HTTP streams on) once, as bytes, with the text taken from them', async () => {
    // What the library's createStreamRequest does with the request the host proxies to the worker.
    const seen: Context[] = [];
    const main = handler({ ...silent }, (_input, ctx) => void seen.push(ctx));
    const answers: number[] = [];
    const server = createServer((incoming: IncomingMessage, out) => {
      const nativeRequest = new Request(`http://127.0.0.1${incoming.url}`, {
        method: incoming.method!,
        headers: incoming.headers as Record<string, string>,
        body: incoming as unknown as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      const req = new HttpRequest({ nativeRequest } as never);
      void main.azure(req, invocationContext({ invocationId: 'stream-1', functionName: 'upload' }, trigger.http({}))).then((init) => {
        answers.push((init as { status: number }).status);
        out.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bytes = binaryBody(64 * 1024);
    // A byte order mark first: the bytes and the text view keep it (U+FEFF), as on every other provider.
    const text = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Grüße')]);
    try {
      for (const [type, body] of [['application/octet-stream', bytes], ['text/plain', text]] as const) {
        await new Promise<void>((resolve, reject) => {
          const r = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'POST', path: '/api/upload', headers: { 'content-type': type } }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          r.on('error', reject);
          // Several chunks, as a client streams a large upload.
          for (let i = 0; i < body.length; i += 4096) r.write(body.subarray(i, i + 4096));
          r.end();
        });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(answers).toEqual([204, 204]);
    const [upload, note] = seen.map((c) => (c.trigger.kind === 'http' ? c.trigger.request : undefined));
    expect(upload?.rawBytes?.equals(bytes)).toBe(true);
    expect(seen[0]!.input).toBe(upload?.rawBytes);
    expect(note?.rawBytes?.equals(text)).toBe(true);
    expect(note?.rawBody).toBe('\uFEFFGrüße');
    expect(seen[1]!.input).toBe('\uFEFFGrüße');
  });

  it('finds the HTTP path from the request itself when the context has no trigger options', async () => {
    const seen: Context[] = [];
    const main = handler({ ...silent }, (_input, ctx) => void seen.push(ctx));
    const { req } = httpCall();
    // A bare InvocationContext says trigger type `unknown`.
    const bare = new InvocationContext({ invocationId: 'bare-1', functionName: 'createOrder', logHandler: () => undefined });
    expect(bare.options.trigger.type).toBe('unknown');
    const init = await main(req, bare);
    expect((init as { status: number }).status).toBe(204);
    expect(seen[0]!.trigger.kind).toBe('http');
  });

  it('answers invalid input with 400 problem+json naming every bad field', async () => {
    const main = handler({ input: Order, ...silent }, () => 'never');
    const { req, ctx } = httpCall({ body: { string: '{"orderId":7,"quantity":0}' } });
    const res = await asHost(await main(req, ctx));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = JSON.parse(res.bytes.toString('utf8'));
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(['orderId', 'quantity']);
  });

  it('hides an unknown error: 500 with neither message nor stack', async () => {
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l) }, () => {
      throw new Error('vault token s3cr3t rejected');
    });
    const { req, ctx } = httpCall();
    const res = await asHost(await main(req, ctx));
    expect(res.status).toBe(500);
    const text = res.bytes.toString('utf8');
    expect(JSON.parse(text)).toEqual({ type: 'urn:steadyfn:error:internal', title: 'Internal Server Error', status: 500, code: 'INTERNAL' });
    expect(text).not.toContain('s3cr3t');
    expect(lines.join('\n')).not.toContain('azure.test.ts');
    expect(lines.join('\n')).not.toContain('o-3003');
  });

  it('keeps the status and headers of an httpResult, and 204 carries no body', async () => {
    const main = handler({ ...silent }, () => httpResult({ status: 202, headers: { Location: '/orders/o-3003', 'Retry-After': '5' }, body: { queued: true } }));
    const { req, ctx } = httpCall();
    const res = await asHost(await main(req, ctx));
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe('/orders/o-3003');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(res.bytes.toString('utf8'))).toEqual({ queued: true });

    const empty = handler({ ...silent }, () => httpResult({ status: 204, body: 'ignored' }));
    // A request body is a stream: each call needs its own request.
    const again = httpCall();
    const init = (await empty(again.req, again.ctx)) as { body?: unknown };
    expect(init.body).toBeUndefined();
    expect((await asHost(init)).status).toBe(204);
  });

  it('sends bytes as a binary body, every byte intact', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const main = handler({ ...silent }, () => httpResult({ headers: { 'content-type': 'application/pdf' }, body: bytes }));
    const { req, ctx } = httpCall();
    const res = await asHost(await main(req, ctx));
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.compare(res.bytes, Buffer.from(bytes))).toBe(0);
  });

  it('turns a result the host could not send into a typed 500 it can', async () => {
    // What the host would do with the raw result: the Fetch Response refuses it.
    expect(() => new HttpResponse({ status: 1200 })).toThrow();
    expect(() => new HttpResponse({ headers: { 'x-note': 'a\r\nb' } })).toThrow();
    const lines: string[] = [];
    for (const result of [httpResult({ status: 1200 }), httpResult({ status: 101 }), httpResult({ headers: { 'x-note': 'a\r\nb' }, body: 'x' })]) {
      const main = handler({ logSink: (l) => lines.push(l) }, () => result);
      const { req, ctx } = httpCall();
      const res = await asHost(await main(req, ctx));
      expect(res.status).toBe(500);
      expect(JSON.parse(res.bytes.toString('utf8')).code).toBe('INVALID_HTTP_RESULT');
    }
    expect(lines.filter((l) => l.includes('INVALID_HTTP_RESULT'))).toHaveLength(3);
  });
});

describe('Azure Storage queue trigger', () => {
  const f = fixture('storage-queue-message.json');
  const queueTrigger = (): FunctionTrigger => trigger.storageQueue({ queueName: 'orders', connection: 'AzureWebJobsStorage' });

  it('gives the message object as input, keyed by the message id, attempt = dequeueCount', async () => {
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const main = handler({ input: Order, ...silent }, (input, ctx) => {
      seen.push({ input, ctx });
      return 'done';
    });
    await expect(main(structuredClone(f.message), invocationContext(f.context, queueTrigger()))).resolves.toBe('done');
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({ orderId: 'o-2002', quantity: 5 });
    expect(ctx.requestId).toBe('3b0d6a4e-52c1-4f0e-9a77-1f4c2d6e8a10');
    expect(ctx.deliveryId).toBe('7c1e9f02-6a3b-4d58-b0e4-92a51c3f7d66');
    expect(ctx.trigger).toEqual({
      kind: 'queue',
      source: 'azure-storage-queue',
      queue: 'orders',
      messageId: '7c1e9f02-6a3b-4d58-b0e4-92a51c3f7d66',
      attempt: 2,
      attributes: {},
      batchIndex: 0,
      batchSize: 1,
    });
  });

  it('gives a text message as text', async () => {
    const seen: unknown[] = [];
    const main = handler({ input: z.string(), ...silent }, (input) => void seen.push(input));
    const context = invocationContext({ ...f.context, triggerMetadata: { ...f.context.triggerMetadata, queueTrigger: 'rebuild index' } }, queueTrigger());
    await main('rebuild index', context);
    expect(seen).toEqual(['rebuild index']);
  });

  it('throws a public error on failure: code only, no stack of user code, no payload', async () => {
    const main = handler({ input: Order, ...silent }, () => {
      throw new Error('card 4111 1111 declined for o-2002');
    });
    const thrown = await main(structuredClone(f.message), invocationContext(f.context, queueTrigger())).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string; retryable: boolean },
    );
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown!.code).toBe('INTERNAL');
    expect(thrown!.retryable).toBe(true);
    expect(thrown!.stack).toBe('INTERNAL: Internal error');
    expect(JSON.stringify({ ...thrown, message: thrown!.message, stack: thrown!.stack })).not.toMatch(/4111|o-2002|azure\.test/);
  });

  it('fails a message that does not validate (poison queue after maxDequeueCount), or acks it with terminalErrors: ack', async () => {
    const bad = { orderId: 'o-2002', quantity: 'five' };
    const failing = handler({ input: Order, ...silent }, () => 'never');
    await expect(failing(bad, invocationContext(f.context, queueTrigger()))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'quantity', expected: 'number' }],
    });
    const acking = handler({ input: Order, terminalErrors: 'ack', ...silent }, () => 'never');
    await expect(acking(bad, invocationContext(f.context, queueTrigger()))).resolves.toBeUndefined();
  });

  it('reads a message id the worker turned into a number back as text', async () => {
    // The worker JSON-parses every string it is given, metadata included.
    const seen: Context[] = [];
    const main = handler({ ...silent }, (_i, ctx) => void seen.push(ctx));
    const context = invocationContext({ ...f.context, triggerMetadata: { ...f.context.triggerMetadata, id: 918273, dequeueCount: '1' } }, queueTrigger());
    await main('x', context);
    expect(seen[0]!.deliveryId).toBe('918273');
    expect(seen[0]!.trigger).toMatchObject({ messageId: '918273', attempt: 1 });
  });

  it('rejects a message without an id as MALFORMED_EVENT', async () => {
    const main = handler({ ...silent }, () => 'never');
    const meta = { ...f.context.triggerMetadata };
    delete meta.id;
    await expect(main('x', invocationContext({ ...f.context, triggerMetadata: meta }, queueTrigger()))).rejects.toMatchObject({
      code: 'MALFORMED_EVENT',
      errors: [{ field: 'triggerMetadata.id' }],
    });
  });
});

describe('Azure Service Bus trigger', () => {
  it('reads one message: id, delivery count, application properties', async () => {
    const f = fixture('service-bus-message.json');
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const main = handler({ input: Payment, ...silent }, (input, ctx) => void seen.push({ input, ctx }));
    await main(structuredClone(f.message), invocationContext(f.context, trigger.serviceBusQueue({ queueName: 'payments', connection: 'ServiceBusConnection' })));
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({ paymentId: 'p-310', amountCents: 1299 });
    expect(ctx.deliveryId).toBe('payments#4411');
    expect(ctx.trigger).toEqual({
      kind: 'queue',
      source: 'azure-service-bus',
      queue: 'payments',
      messageId: 'pay-310-capture',
      attempt: 1,
      sequenceNumber: '4411',
      time: '2025-03-14T12:01:09.552Z',
      attributes: { tenant: 'acme', retryOf: '0' },
      batchIndex: 0,
      batchSize: 1,
    });
  });

  it('runs every message of a batch (cardinality many) and throws when one fails, so the batch is redelivered', async () => {
    const f = fixture('service-bus-batch.json');
    const seen: Context[] = [];
    const batches: number[] = [];
    const counting: Plugin = { name: 'count', beforeBatch: (ctxs) => void batches.push(ctxs.length) };
    const main = handler({ input: Payment, use: [counting], ...silent }, (_input, ctx) => void seen.push(ctx));
    const context = invocationContext(
      f.context,
      trigger.serviceBusTopic({ topicName: 'payments', subscriptionName: 'capture', connection: 'ServiceBusConnection', cardinality: 'many' }),
    );
    await expect(main(structuredClone(f.messages), context)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(batches).toEqual([3]);
    // The two valid messages ran; the invalid one never reached the function.
    expect(seen.map((c) => c.deliveryId).sort()).toEqual(['payments/capture#5101', 'payments/capture#5103']);
    const third = seen.find((c) => c.deliveryId === 'payments/capture#5103')!;
    expect(third.requestId).toBe('5e2a7c91-0b4d-4f68-a3e2-c18d9b7f6a05:5103');
    expect(third.trigger).toEqual({
      kind: 'queue',
      source: 'azure-service-bus',
      queue: 'payments/capture',
      messageId: 'pay-403',
      attempt: 1,
      sequenceNumber: '5103',
      time: '2025-03-14T12:10:00.377Z',
      attributes: { tenant: 'acme' },
      batchIndex: 2,
      batchSize: 3,
    });
  });

  it('reports the delivery count of each message of a batch, and acks terminal failures with terminalErrors: ack', async () => {
    const f = fixture('service-bus-batch.json');
    const attempts: Record<string, number | undefined> = {};
    const main = handler({ input: z.object({ paymentId: z.string() }), terminalErrors: 'ack', ...silent }, (_input, ctx) => {
      if (ctx.trigger.kind === 'queue') attempts[ctx.trigger.messageId] = ctx.trigger.attempt;
    });
    const context = invocationContext(f.context, trigger.serviceBusQueue({ queueName: 'payments', connection: 'ServiceBusConnection', cardinality: 'many' }));
    await expect(main(structuredClone(f.messages), context)).resolves.toBeUndefined();
    expect(attempts).toEqual({ 'pay-401': 1, 'pay-402': 3, 'pay-403': 1 });

    const strict = handler({ input: Payment, terminalErrors: 'ack', ...silent }, () => undefined);
    await expect(strict(structuredClone(f.messages), context)).resolves.toBeUndefined();
  });

  it('rejects a batch whose ids are missing as MALFORMED_EVENT, running nothing', async () => {
    const f = fixture('service-bus-batch.json');
    let ran = 0;
    const main = handler({ ...silent }, () => void ran++);
    const meta = { ...f.context.triggerMetadata };
    delete meta.messageIdArray;
    delete meta.sequenceNumberArray;
    const context = invocationContext({ ...f.context, triggerMetadata: meta }, trigger.serviceBusQueue({ queueName: 'payments', connection: 'c', cardinality: 'many' }));
    await expect(main(structuredClone(f.messages), context)).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
    expect(ran).toBe(0);
  });
});

describe('Azure timer trigger', () => {
  const f = fixture('timer.json');
  const timer = (): FunctionTrigger => trigger.timer({ schedule: '0 */5 * * * *' });

  it('runs as a schedule tick named by the function and the occurrence being run', async () => {
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const main = handler({ ...silent }, (input, ctx) => void seen.push({ input, ctx }));
    await main(structuredClone(f.timer), invocationContext(f.context, timer()));
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({});
    expect(ctx.trigger).toEqual({
      kind: 'schedule',
      source: 'azure-timer',
      schedule: 'purgeExpired',
      cron: '0 */5 * * * *',
      scheduledTime: '2025-03-15T02:00:00+00:00',
      pastDue: false,
      scheduleStatus: { last: '2025-03-15T01:55:00+00:00', next: '2025-03-15T02:00:00+00:00', lastUpdated: '2025-03-15T01:55:00+00:00' },
    });
    expect(ctx.deliveryId).toBe('purgeExpired@2025-03-15T02:00:00+00:00');
  });

  it('does not name a tick for a run on startup (next still ahead) or without a schedule monitor', async () => {
    const seen: Context[] = [];
    const main = handler({ ...silent }, (_input, ctx) => void seen.push(ctx));
    const ahead = structuredClone(f.timer);
    ahead.scheduleStatus.next = new Date(Date.now() + 5 * 60_000).toISOString();
    await main(ahead, invocationContext(f.context, timer()));
    await main({ ...structuredClone(f.timer), scheduleStatus: null }, invocationContext(f.context, timer()));
    for (const ctx of seen) {
      expect(ctx.deliveryId).toBe('c4d2e6f8-1a3b-4c5d-9e7f-0a2b4c6d8e1f');
      expect(ctx.trigger).toMatchObject({ kind: 'schedule', source: 'azure-timer', schedule: 'purgeExpired', pastDue: false });
      expect(ctx.trigger).not.toHaveProperty('scheduledTime');
    }
    expect(seen[0]!.trigger).toHaveProperty('scheduleStatus.next', ahead.scheduleStatus.next);
    expect(seen[1]!.trigger).not.toHaveProperty('scheduleStatus');
    expect(seen).toHaveLength(2);
  });
});

describe('Azure deadlines', () => {
  it('sets ctx.deadline to the start plus timeoutMs', async () => {
    const seen: number[] = [];
    const main = handler({ timeoutMs: 90_000, ...silent }, (_i, ctx) => void seen.push(ctx.deadline));
    const { req, ctx } = httpCall();
    const before = Date.now();
    await main(req, ctx);
    const after = Date.now();
    expect(seen[0]).toBeGreaterThanOrEqual(before + 90_000);
    expect(seen[0]).toBeLessThanOrEqual(after + 90_000);
  });

  it('answers a slow HTTP function with 504 and fails a slow queue message with DEADLINE_EXCEEDED', async () => {
    const slow = async (): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 20_000).unref());
    };
    const main = handler({ timeoutMs: 800, deadlineMarginMs: 300, ...silent }, slow);
    const { req, ctx } = httpCall();
    const res = await asHost(await main(req, ctx));
    expect(res.status).toBe(504);
    expect(JSON.parse(res.bytes.toString('utf8')).code).toBe('DEADLINE_EXCEEDED');
    const q = fixture('storage-queue-message.json');
    await expect(main(q.message, invocationContext(q.context, trigger.storageQueue({ queueName: 'orders', connection: 'c' })))).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      retryable: true,
    });
  });
});

describe('Azure registration outside the host', () => {
  it('accepts the wrapped handler for every trigger, but registers nothing in test mode', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const main = handler({ ...silent }, () => undefined);
    app.http('createOrder', { methods: ['POST'], authLevel: 'function', handler: main });
    app.storageQueue('processOrder', { queueName: 'orders', connection: 'AzureWebJobsStorage', handler: main });
    app.serviceBusQueue('capturePayments', { queueName: 'payments', connection: 'ServiceBusConnection', cardinality: 'many', handler: main });
    app.timer('purgeExpired', { schedule: '0 */5 * * * *', handler: main });
    const skipped = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('Skipping call to register function'));
    expect(skipped).toHaveLength(4);
  });
});
