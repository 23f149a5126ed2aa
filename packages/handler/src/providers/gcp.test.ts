/**
 * The GCP adapter on the real Functions Framework (v5): functions are registered with
 * `functions.http` / `functions.cloudEvent`, served by the framework's own test server
 * (Express, body parsers, CloudEvent parsing, Pub/Sub push conversion, crash responses)
 * on 127.0.0.1, and driven over HTTP with supertest.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeServers, serve } from '../../test/support/gcp-server.js';
import request from 'supertest';
import { z } from 'zod';
import { currentContext, handler, httpResult, TerminalError, type Context } from '../index.js';
import { binaryBody } from '../../test/support/bytes.js';

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/gcp/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

afterAll(closeServers);

function logs(): { sink: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { sink: (line) => lines.push(line), lines };
}

const Order = z.object({ orderId: z.string(), quantity: z.number().int().positive() });

describe('GCP HTTP functions on the Functions Framework', () => {
  it('runs a JSON POST through the unified handler (detection picks the HTTP path)', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, async (input, ctx) => {
      seen.push(ctx);
      return { accepted: input.orderId, total: input.quantity * 3 };
    });
    const url = await serve('http', main);
    const res = await request(url).post('/orders').set('Function-Execution-Id', 'exec-41').send({ orderId: 'o-1', quantity: 2 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual({ accepted: 'o-1', total: 6 });
    expect(seen).toHaveLength(1);
    const ctx = seen[0]!;
    expect(ctx.provider).toBe('gcp');
    expect(ctx.requestId).toBe('exec-41');
    expect(ctx.deliveryId).toBeUndefined();
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'express', request: { method: 'POST', path: '/orders' } });
    // Without a configured timeout the framework gives no clock.
    expect(ctx.deadline).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes a GET query as input and keeps repeated parameters', async () => {
    const seen: Context[] = [];
    const main = handler({ input: z.object({ q: z.string(), page: z.coerce.number() }) }, (input, ctx) => {
      seen.push(ctx);
      return input;
    });
    const url = await serve('http', main.gcpHttp);
    const res = await request(url).get('/search?q=lamp&page=3&tag=a&tag=b');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ q: 'lamp', page: 3 });
    const trigger = seen[0]!.trigger;
    if (trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
    expect(trigger.request.multiQuery.tag).toEqual(['a', 'b']);
    // The framework made up an execution id (no header); the context carries it.
    expect(seen[0]!.requestId).toMatch(/^\w+$/);
  });

  it('answers invalid input with 400 problem+json naming every bad field', async () => {
    const log = logs();
    const main = handler({ input: Order, logSink: log.sink }, () => 'never');
    const url = await serve('http', main);
    const res = await request(url).post('/orders').send({ orderId: 7, quantity: -1 });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(res.text);
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(['orderId', 'quantity']);
    expect(problem.errors.find((e: { field: string }) => e.field === 'orderId').expected).toBe('string');
    expect(res.text).not.toContain('o-');
    // Rejections log at warn, which the test setup filters out: only check nothing leaked.
    expect(log.lines.join('\n')).not.toContain('"orderId"');
  });

  it('answers a JSON body that does not parse with a typed 400', async () => {
    let called = 0;
    const url = await serve('http', handler({ logSink: () => undefined }, () => void called++));
    // A JSON media type other than application/json reaches the function as raw bytes.
    const res = await request(url).post('/').set('content-type', 'application/vnd.api+json').send('{"orderId": ');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'a JSON document' }] });
    // Plain application/json is parsed by the framework's body-parser, which answers 400
    // itself (an Express error page) and never calls the function.
    const framework = await request(url).post('/').set('content-type', 'application/json').send('{"orderId": ');
    expect(framework.status).toBe(400);
    expect(called).toBe(0);
  });

  it('hides an unknown error: 500 with neither message nor stack, in the answer or the logs', async () => {
    const log = logs();
    const main = handler({ logSink: log.sink }, () => {
      throw new Error('db at 10.1.2.3 refused password=hunter2');
    });
    const url = await serve('http', main);
    const res = await request(url).post('/').send({ any: 'thing' });
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.text)).toEqual({ type: 'urn:steadyfn:error:internal', title: 'Internal Server Error', status: 500, code: 'INTERNAL' });
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('gcp.test.ts');
    const joined = log.lines.join('\n');
    expect(joined).toContain('INTERNAL');
    expect(joined).not.toContain('gcp.test.ts');
    expect(joined).not.toContain('"any"');
  });

  it('sends an httpResult with its own status and headers, exactly as given', async () => {
    const main = handler({}, () =>
      httpResult({ status: 201, headers: { Location: '/orders/o-9', 'Content-Type': 'text/csv', 'X-Trace': 'abc' }, body: 'id\no-9\n' }),
    );
    const url = await serve('http', main);
    const res = await request(url).post('/orders').send({});
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/orders/o-9');
    // Express' res.set would have made this `text/csv; charset=utf-8`.
    expect(res.headers['content-type']).toBe('text/csv');
    expect(res.headers['x-trace']).toBe('abc');
    expect(res.text).toBe('id\no-9\n');
  });

  it('answers undefined with 204 and no body', async () => {
    const url = await serve('http', handler({}, () => undefined));
    const res = await request(url).delete('/orders/1');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  it('sends bytes as a binary body, every byte intact', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const main = handler({}, () => httpResult({ headers: { 'content-type': 'image/png' }, body: bytes }));
    const url = await serve('http', main);
    const res = await request(url).get('/logo.png').responseType('blob');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(res.body as Buffer, Buffer.from(bytes))).toBe(0);
  });

  it('hands a binary body to the function byte for byte, as a Buffer and as rawBytes', async () => {
    const seen: Array<{ input: Buffer; rawBytes: Buffer | undefined }> = [];
    const main = handler({ input: z.instanceof(Buffer) }, (input, ctx) => {
      seen.push({ input, rawBytes: ctx.trigger.kind === 'http' ? ctx.trigger.request.rawBytes : undefined });
      return httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: input });
    });
    const url = await serve('http', main);
    for (const type of ['application/octet-stream', 'image/png']) {
      const bytes = binaryBody();
      const res = await request(url).post('/upload').set('content-type', type).send(bytes).responseType('blob');
      expect(res.status).toBe(200);
      expect((res.body as Buffer).equals(bytes)).toBe(true);
      const got = seen.pop()!;
      expect(Buffer.isBuffer(got.input)).toBe(true);
      expect(got.input.equals(bytes)).toBe(true);
      expect(got.rawBytes).toBe(got.input);
    }
  });

  it('keeps the exact bytes of textual bodies too, for signatures over what the client sent', async () => {
    const seen: Context[] = [];
    const url = await serve('http', handler({}, (_input, ctx) => void seen.push(ctx)));
    const json = Buffer.from('{ "orderId" : "o-1",\n  "quantity": 2 }');
    // Latin-1 text: the UTF-8 text view cannot hold it, the bytes can.
    const latin1 = Buffer.from('Grüße', 'latin1');
    // As text: superagent would serialise a Buffer under a JSON type as JSON.
    await request(url).post('/').set('content-type', 'application/json').send(json.toString('utf8'));
    await request(url).post('/').set('content-type', 'text/plain; charset=iso-8859-1').send(latin1);
    const [a, b] = seen.map((c) => (c.trigger.kind === 'http' ? c.trigger.request : undefined));
    expect(a?.rawBytes?.equals(json)).toBe(true);
    expect(a?.rawBody).toBe(json.toString('utf8'));
    expect(b?.rawBytes?.equals(latin1)).toBe(true);
    expect(seen[0]!.input).toEqual({ orderId: 'o-1', quantity: 2 });
  });

  it('turns a result no HTTP response can carry into a typed 500, not a framework crash page', async () => {
    const log = logs();
    const badStatus = handler({ logSink: log.sink }, () => httpResult({ status: 1200, body: 'x' }));
    const badHeader = handler({ logSink: log.sink }, () => httpResult({ headers: { 'x-note': 'line\r\nSet-Cookie: a=b' }, body: 'x' }));
    for (const main of [badStatus, badHeader]) {
      const url = await serve('http', main);
      const res = await request(url).get('/');
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(log.lines.filter((l) => l.includes('INVALID_HTTP_RESULT'))).toHaveLength(2);
  });

  it('reads a Cloud Scheduler HTTP call as a schedule tick named by job and time', async () => {
    const call = fixture('cloud-scheduler-http.json');
    const seen: Context[] = [];
    const main = handler({ gcpSchedulerHttp: true, input: z.object({ scope: z.string() }) }, (input, ctx) => {
      seen.push(ctx);
      return { ran: input.scope };
    });
    const url = await serve('http', main);
    const res = await request(url).post('/').set(call.headers).send(call.body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ran: 'yesterday' });
    const ctx = seen[0]!;
    expect(ctx.trigger).toEqual({
      kind: 'schedule',
      source: 'cloud-scheduler',
      schedule: 'nightly-reconcile',
      scheduledTime: '2025-03-15T02:00:00.118Z',
    });
    expect(ctx.deliveryId).toBe('nightly-reconcile@2025-03-15T02:00:00.118Z');
  });

  it('gives a scheduler call without a body an empty object as input', async () => {
    const call = fixture('cloud-scheduler-http.json');
    const seen: unknown[] = [];
    const url = await serve('http', handler({ gcpSchedulerHttp: true }, (input) => void seen.push(input)));
    const res = await request(url).post('/').set({ ...call.headers, 'content-type': '' });
    expect(res.status).toBe(204);
    expect(seen).toEqual([{}]);
  });
});

describe('GCP CloudEvent functions on the Functions Framework', () => {
  const published = fixture('pubsub-message-published.json');

  function binaryHeaders(ce: Record<string, any>): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(ce)) if (k !== 'data' && k !== 'datacontenttype') headers[`ce-${k}`] = String(v);
    return headers;
  }

  it('decodes a Pub/Sub message sent in binary content mode (unified handler)', async () => {
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    const main = handler({ input: Order }, (input, ctx) => void seen.push({ input, ctx }));
    const url = await serve('cloudEvent', main);
    const res = await request(url).post('/').set(binaryHeaders(published)).send(published.data);
    expect(res.status).toBe(204);
    expect(seen).toHaveLength(1);
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({ orderId: 'o-1001', quantity: 2 });
    expect(ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/steady-demo/topics/orders#4821946602334719');
    expect(ctx.requestId).not.toBe(ctx.deliveryId);
    expect(ctx.trigger).toEqual({
      kind: 'queue',
      source: 'pubsub',
      queue: 'projects/steady-demo/subscriptions/eventarc-us-central1-orders-sub-417',
      messageId: '4821946602334719',
      attributes: { origin: 'checkout', priority: 'high' },
      batchIndex: 0,
      batchSize: 1,
    });
  });

  it('decodes the same message in structured content mode (explicit gcpEvent entry)', async () => {
    const seen: unknown[] = [];
    const main = handler({ input: Order }, (input, ctx) => void seen.push([input, ctx.deliveryId]));
    const url = await serve('cloudEvent', main.gcpEvent);
    const res = await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(published));
    expect(res.status).toBe(204);
    expect(seen).toEqual([[{ orderId: 'o-1001', quantity: 2 }, '//pubsub.googleapis.com/projects/steady-demo/topics/orders#4821946602334719']]);
  });

  it('takes a raw Pub/Sub push converted by the framework, and reports the delivery attempt', async () => {
    const push = { ...fixture('pubsub-push-raw.json'), deliveryAttempt: 3 };
    const seen: Context[] = [];
    const main = handler({ input: Order }, (_input, ctx) => void seen.push(ctx));
    const url = await serve('cloudEvent', main);
    // Pushed to /projects/<p>/topics/<t> as the framework asks; it rebuilds a CloudEvent.
    const res = await request(url).post('/projects/steady-demo/topics/orders').send(push);
    expect(res.status).toBe(204);
    expect(seen[0]!.deliveryId).toBe('//pubsub.googleapis.com/projects/steady-demo/topics/orders#5503311208810042');
    expect(seen[0]!.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: '5503311208810042' });
  });

  it('answers a failed message non-2xx so Pub/Sub redelivers, without the error text of user code', async () => {
    const log = logs();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const main = handler({ input: Order, logSink: log.sink }, () => {
        throw new Error('downstream said: card 4111-1111 declined');
      });
      const url = await serve('cloudEvent', main);
      const res = await request(url).post('/').set(binaryHeaders(published)).send(published.data);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain('4111');
      // The framework logs what we threw: the public error, no stack of user code.
      const printed = errors.mock.calls.map((c) => c.map(String).join(' ')).join('\n');
      expect(printed).toContain('INTERNAL');
      expect(printed).not.toContain('4111');
      expect(printed).not.toContain('gcp.test.ts');
    } finally {
      errors.mockRestore();
    }
  });

  it('fails a message that does not validate (dead-letter), or acknowledges it with terminalErrors: ack', async () => {
    const bad = structuredClone(published);
    bad.data.message.data = Buffer.from(JSON.stringify({ orderId: 'o-1001', quantity: 'two' })).toString('base64');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const failing = await serve('cloudEvent', handler({ input: Order, logSink: () => undefined }, () => 'ok'));
      const acking = await serve('cloudEvent', handler({ input: Order, terminalErrors: 'ack', logSink: () => undefined }, () => 'ok'));
      const failed = await request(failing).post('/').set(binaryHeaders(bad)).send(bad.data);
      expect(failed.status).toBeGreaterThanOrEqual(400);
      expect(failed.text).toContain('VALIDATION_FAILED');
      const acked = await request(acking).post('/').set(binaryHeaders(bad)).send(bad.data);
      expect(acked.status).toBeGreaterThanOrEqual(200);
      expect(acked.status).toBeLessThan(300);
    } finally {
      errors.mockRestore();
    }
  });

  it('acknowledges a TerminalError with ack, but still fails a retryable error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      let throwRetryable = false;
      const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, () => {
        if (throwRetryable) throw new Error('flaky');
        throw new TerminalError('OUT_OF_STOCK', 'No stock');
      });
      const url = await serve('cloudEvent', main);
      expect((await request(url).post('/').set(binaryHeaders(published)).send(published.data)).status).toBe(204);
      throwRetryable = true;
      expect((await request(url).post('/').set(binaryHeaders(published)).send(published.data)).status).toBe(500);
    } finally {
      errors.mockRestore();
    }
  });

  it('passes a generic CloudEvent through as an event trigger keyed by its source and id', async () => {
    // A CloudEvent type the wrapper has no trigger kind for (Cloud Storage ones are `storage` triggers).
    const finalized: Record<string, any> = { ...fixture('storage-object-finalized.json'), type: 'com.example.invoice.v1.archived' };
    const seen: Array<{ input: any; ctx: Context }> = [];
    const main = handler({ input: z.object({ bucket: z.string(), name: z.string() }) }, (input, ctx) => void seen.push({ input, ctx }));
    const url = await serve('cloudEvent', main);
    const binary = await request(url).post('/').set(binaryHeaders(finalized)).send(finalized.data);
    const structured = await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(finalized));
    expect([binary.status, structured.status]).toEqual([204, 204]);
    for (const { input, ctx } of seen) {
      expect(input).toEqual({ bucket: 'steady-demo-uploads', name: 'invoices/2025/03/inv-77.pdf' });
      expect(ctx.deliveryId).toBe('//storage.googleapis.com/projects/_/buckets/steady-demo-uploads#9182736455647382');
      expect(ctx.trigger).toEqual({
        kind: 'event',
        source: 'cloudevent',
        type: 'com.example.invoice.v1.archived',
        eventSource: '//storage.googleapis.com/projects/_/buckets/steady-demo-uploads',
        id: '9182736455647382',
        subject: 'objects/invoices/2025/03/inv-77.pdf',
        time: '2025-03-14T10:02:11.204Z',
      });
    }
    expect(seen).toHaveLength(2);
  });

  it('rejects a CloudEvent with missing attributes as MALFORMED_EVENT naming them', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const main = handler({ logSink: () => undefined }, () => 'never');
      const url = await serve('cloudEvent', main.gcpEvent);
      const res = await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify({ specversion: '1.0', data: {} }));
      expect(res.status).toBe(500);
      expect(res.text).toContain('MALFORMED_EVENT');
    } finally {
      errors.mockRestore();
    }
  });
});

describe('GCP deadlines', () => {
  const saved = { run: process.env.CLOUD_RUN_TIMEOUT_SECONDS, fn: process.env.FUNCTION_TIMEOUT_SEC };
  beforeEach(() => {
    delete process.env.CLOUD_RUN_TIMEOUT_SECONDS;
    delete process.env.FUNCTION_TIMEOUT_SEC;
  });
  afterEach(() => {
    for (const [key, value] of [['CLOUD_RUN_TIMEOUT_SECONDS', saved.run], ['FUNCTION_TIMEOUT_SEC', saved.fn]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('sets ctx.deadline to the start plus CLOUD_RUN_TIMEOUT_SECONDS (2nd gen), before FUNCTION_TIMEOUT_SEC', async () => {
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '540';
    process.env.FUNCTION_TIMEOUT_SEC = '60';
    const seen: number[] = [];
    const url = await serve('http', handler({}, (_i, ctx) => void seen.push(ctx.deadline)));
    const before = Date.now();
    await request(url).get('/');
    const after = Date.now();
    expect(seen[0]).toBeGreaterThanOrEqual(before + 540_000);
    expect(seen[0]).toBeLessThanOrEqual(after + 540_000);
  });

  it('falls back to FUNCTION_TIMEOUT_SEC (1st gen) for CloudEvents too', async () => {
    process.env.FUNCTION_TIMEOUT_SEC = '60';
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '';
    const seen: number[] = [];
    const url = await serve('cloudEvent', handler({}, (_i, ctx) => void seen.push(ctx.deadline)));
    const finalized = fixture('storage-object-finalized.json');
    const before = Date.now();
    await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(finalized));
    const after = Date.now();
    expect(seen[0]).toBeGreaterThanOrEqual(before + 60_000);
    expect(seen[0]).toBeLessThanOrEqual(after + 60_000);
  });

  it('answers a slow HTTP function with 504 DEADLINE_EXCEEDED before the platform would cut it off', async () => {
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '1';
    let aborted = false;
    const main = handler({ deadlineMarginMs: 300, logSink: () => undefined }, async (_input, ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = true));
      // Far longer than the timeout: only the deadline can end this request.
      await new Promise((resolve) => setTimeout(resolve, 20_000).unref());
      return 'too late';
    });
    const url = await serve('http', main);
    const res = await request(url).get('/');
    expect(res.status).toBe(504);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(aborted).toBe(true);
  });

  it('fails a slow CloudEvent with DEADLINE_EXCEEDED (retryable, so non-2xx)', async () => {
    process.env.CLOUD_RUN_TIMEOUT_SECONDS = '1';
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const main = handler({ deadlineMarginMs: 300, terminalErrors: 'ack', logSink: () => undefined }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 20_000).unref());
      });
      const url = await serve('cloudEvent', main);
      const res = await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(published()));
      expect(res.status).toBe(500);
      expect(res.text).toContain('DEADLINE_EXCEEDED');
    } finally {
      errors.mockRestore();
    }
  });

  function published(): Record<string, any> {
    return fixture('pubsub-message-published.json');
  }
});

describe('GCP concurrency', () => {
  it('serves concurrent requests at once, each seeing its own ctx through currentContext() after awaits', async () => {
    // Both requests must be inside the function at the same time before either may finish.
    let arrived = 0;
    let release!: () => void;
    const together = new Promise<void>((resolve) => (release = resolve));
    const bound = setTimeout(() => release(), 10_000).unref();
    const main = handler({ input: z.object({ who: z.string() }) }, async (input, ctx) => {
      arrived++;
      if (arrived === 2) release();
      await together;
      await new Promise((resolve) => setImmediate(resolve));
      const now = currentContext();
      return { who: input.who, arrivedTogether: arrived === 2, sameCtx: now === ctx, requestId: now?.requestId, input: now?.input };
    });
    const url = await serve('http', main);
    const [a, b] = await Promise.all([
      request(url).post('/').set('Function-Execution-Id', 'exec-a').send({ who: 'a' }),
      request(url).post('/').set('Function-Execution-Id', 'exec-b').send({ who: 'b' }),
    ]);
    clearTimeout(bound);
    expect(a.body).toEqual({ who: 'a', arrivedTogether: true, sameCtx: true, requestId: 'exec-a', input: { who: 'a' } });
    expect(b.body).toEqual({ who: 'b', arrivedTogether: true, sameCtx: true, requestId: 'exec-b', input: { who: 'b' } });
  });
});

describe('GCP client disconnect', () => {
  it('aborts ctx.signal when the HTTP client goes away before the answer, and not when it waits', async () => {
    const reasons: string[] = [];
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const main = handler({ logSink: () => undefined }, async (input: unknown, ctx) => {
      const { wait } = input as { wait: number };
      started();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      reasons.push(ctx.signal.aborted ? String((ctx.signal.reason as { code?: string }).code) : 'not aborted');
      return { ok: true };
    });
    const url = new URL(await serve('http', main));
    // A client that hangs up while the function still works.
    const { request: httpRequest } = await import('node:http');
    const hangUp = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'content-type': 'application/json' } });
    hangUp.on('error', () => undefined);
    hangUp.end(JSON.stringify({ wait: 5_000 }));
    await inside;
    hangUp.destroy();
    for (let i = 0; i < 100 && reasons.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reasons).toEqual(['CLIENT_CLOSED_REQUEST']);
    // A client that waits for its answer is never reported as gone.
    const res = await request(url.origin).post('/').send({ wait: 10 });
    expect(res.status).toBe(200);
    expect(reasons).toEqual(['CLIENT_CLOSED_REQUEST', 'not aborted']);
  });
});

describe('GCP explicit entries called by hand', () => {
  it('fails typed when gcpHttp is given something that is not an Express response', async () => {
    const main = handler({ ...{ logSink: () => undefined } }, () => 'never');
    await expect(main.gcpHttp({ method: 'GET', headers: {} }, {})).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
  });
});
