/**
 * `tracing()` with the real OpenTelemetry API and SDK (`@opentelemetry/api`,
 * `@opentelemetry/sdk-trace-base` with an InMemorySpanExporter, the AsyncLocalStorage context
 * manager), through the real Lambda adapter and its event fixtures.
 */
import { readFileSync } from 'node:fs';
import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, handler, httpResult, TerminalError, type Context } from '../index.js';
import { traceAttributes, tracing } from '../tracing.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = (id = 'req-1') => ({ awsRequestId: id, functionName: 'orders', getRemainingTimeInMillis: () => 30_000 });

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('orders-test');
const manager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => exporter.reset());

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const byName = (name: string): ReadableSpan => {
  const found = spans().find((s) => s.name === name);
  if (!found) throw new Error(`no span ${name} in ${spans().map((s) => s.name).join(', ')}`);
  return found;
};
const traceparentOf = (span: ReadableSpan): string => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

describe('an HTTP invocation', () => {
  it('is a SERVER span, child of the incoming traceparent, with FaaS and HTTP attributes; ctx.traceparent is the span', async () => {
    let seen = '';
    const main = handler({ use: [tracing({ tracer })] }, (_input, ctx: Context) => {
      seen = ctx.traceparent;
      // A span the function starts is a child of the invocation's span (it is the active one).
      tracer.startSpan('charge card').end();
      return httpResult({ status: 201, body: { ok: true } });
    });
    const event = fixture('apigw-v2-post.json');
    event.headers = { ...event.headers, traceparent: TP };
    await main.aws(event, lambdaContext('http-1'));

    const span = byName('POST');
    expect(span.kind).toBe(1); // SERVER
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span.attributes).toMatchObject({
      'faas.trigger': 'http',
      'faas.invocation_id': 'http-1',
      'faas.name': 'orders',
      'cloud.provider': 'aws',
      'http.request.method': 'POST',
      'http.response.status_code': 201,
    });
    expect(typeof span.attributes['faas.coldstart']).toBe('boolean');
    expect(span.status.code).toBe(0); // UNSET: a success is not marked
    expect(seen).toBe(traceparentOf(span));
    expect(byName('charge card').parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('marks a 5xx as an error with the code as error.type, a 4xx not (it is the caller’s)', async () => {
    const main = handler({ use: [tracing({ tracer })] }, (input: any) => {
      if (input.fail === 'client') throw new TerminalError('OUT_OF_STOCK', 'No stock');
      throw new Error('secret connection string postgres://u:p@h');
    });
    const event = fixture('apigw-v2-post.json');
    await main.aws({ ...event, isBase64Encoded: false, body: JSON.stringify({ fail: 'client' }) }, lambdaContext());
    await main.aws({ ...event, isBase64Encoded: false, body: JSON.stringify({ fail: 'server' }) }, lambdaContext());
    const [client, server] = spans();
    expect(client!.attributes).toMatchObject({ 'error.type': 'OUT_OF_STOCK', 'http.response.status_code': 422 });
    expect(client!.status.code).toBe(0);
    expect(server!.attributes).toMatchObject({ 'error.type': 'INTERNAL', 'http.response.status_code': 500 });
    expect(server!.status).toEqual({ code: 2, message: 'INTERNAL' });
    // Never the message: it may carry values.
    expect(JSON.stringify(server!.events)).not.toContain('postgres');
  });

  it('starts a new trace (a root span) when the request carried none', async () => {
    await handler({ use: [tracing({ tracer })] }, () => 'ok').aws(fixture('apigw-v2-post.json'), lambdaContext());
    expect(byName('POST').parentSpanContext).toBeUndefined();
  });

  it('nests under an active span (as under the OpenTelemetry Lambda layer) rather than the incoming one', async () => {
    const main = handler({ use: [tracing({ tracer })] }, () => 'ok');
    const event = fixture('apigw-v2-post.json');
    event.headers = { ...event.headers, traceparent: TP };
    const outer: Span = tracer.startSpan('lambda layer');
    await context.with(trace.setSpan(context.active(), outer), () => main.aws(event, lambdaContext()));
    outer.end();
    expect(byName('POST').parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });
});

describe('an SQS batch', () => {
  it('is a CONSUMER span per message continuing its producer’s trace, and one batch span linked to them', async () => {
    const outgoing: Json[] = [];
    const main = handler({ use: [tracing({ tracer })] }, (_input, ctx: Context) => {
      outgoing.push(traceAttributes(ctx));
      if (ctx.trigger.kind === 'queue' && ctx.trigger.batchIndex === 1) throw new TerminalError('BAD_ORDER', 'no');
    });
    const event = fixture('sqs-standard-batch.json');
    event.Records = event.Records.slice(0, 2);
    // Sampled: the SDK's default sampler follows the parent's flag (Sampled=0 would record nothing).
    event.Records[0].attributes.AWSTraceHeader = 'Root=1-67d3f9c4-6a5b4c3d2e1f0a9b8c7d6e5f;Parent=3c2b1a0f9e8d7c6b;Sampled=1';
    event.Records[1].messageAttributes = { traceparent: { stringValue: TP, dataType: 'String' } };
    await main.aws(event, lambdaContext('batch-1'));

    const messages = spans().filter((s) => s.name === 'process orders' && s.attributes['messaging.message.id'] !== undefined);
    expect(messages).toHaveLength(2);
    const [first, second] = [event.Records[0].messageId, event.Records[1].messageId].map((id) => messages.find((s) => s.attributes['messaging.message.id'] === id)!);
    expect(first!.kind).toBe(4); // CONSUMER
    expect(first!.attributes).toMatchObject({ 'faas.trigger': 'pubsub', 'messaging.system': 'aws_sqs', 'messaging.operation.type': 'process', 'messaging.destination.name': 'orders' });
    // Record 0 carries only AWSTraceHeader (X-Ray), mapped to W3C; record 1 a traceparent attribute.
    expect(first!.spanContext().traceId).toBe('67d3f9c46a5b4c3d2e1f0a9b8c7d6e5f');
    expect(first!.parentSpanContext?.spanId).toBe('3c2b1a0f9e8d7c6b');
    expect(second!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(second!.status).toEqual({ code: 2, message: 'BAD_ORDER' });
    expect(first!.status.code).toBe(0);

    const batch = spans().find((s) => s.attributes['messaging.batch.message_count'] === 2)!;
    expect(batch.kind).toBe(4);
    expect(batch.links.map((l) => l.context.spanId).sort()).toEqual([first!.spanContext().spanId, second!.spanContext().spanId].sort());
    expect(batch.attributes['steadyfn.batch.failed']).toBe(1);
    expect(batch.status.code).toBe(2);

    // What the function sends carries its message's span.
    expect(outgoing).toContainEqual({ traceparent: { DataType: 'String', StringValue: traceparentOf(second!) } });
  });
});

describe('tracing() options', () => {
  it('refuses a tracer without startSpan', () => {
    expect(() => tracing({ tracer: {} as never })).toThrow(ConfigurationError);
    expect(() => tracing({ tracer, activate: 'yes' as never })).toThrow(/activate/);
  });

  it('keeps ctx.traceparent when the tracer records nothing (the API without an SDK)', async () => {
    let seen = '';
    await handler({ use: [tracing({ tracer: trace.getTracer('no-sdk') })] }, (_i, ctx: Context) => void (seen = ctx.traceparent)).aws(
      { ...fixture('apigw-v2-post.json'), headers: { traceparent: TP } },
      lambdaContext(),
    );
    // The no-op tracer's span carries the parent's context: the trace goes on unchanged.
    expect(seen.startsWith('00-4bf92f3577b34da6a3ce929d0e0e4736-')).toBe(true);
  });
});
