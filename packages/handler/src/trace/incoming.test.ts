/**
 * `ctx.traceparent` read from each provider's event by the real adapters (the fixtures of the
 * provider tests, and the Functions Framework's test server for CloudEvents in binary mode),
 * with the W3C / X-Ray rules of trace/incoming.ts.
 */
import { readFileSync } from 'node:fs';
import { trigger } from '@azure/functions';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { invocationContext } from '../../test/support/azure.js';
import { closeServers, serve } from '../../test/support/gcp-server.js';
import { handler, TraceparentInvalidError, type Context } from '../index.js';
import { parseTraceparent } from './traceparent.js';

type Json = Record<string, any>;
const fixture = (provider: string, name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/${provider}/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = () => ({ awsRequestId: 'req-1', functionName: 'orders', getRemainingTimeInMillis: () => 30_000 });
afterAll(closeServers);

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TS = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';

function traces() {
  const seen: Array<{ traceparent: string; tracestate: string | undefined }> = [];
  return { seen, fn: (_input: unknown, ctx: Context) => void seen.push({ traceparent: ctx.traceparent, tracestate: ctx.tracestate }) };
}

describe('HTTP', () => {
  it('reads traceparent and tracestate headers (API Gateway HTTP API)', async () => {
    const { seen, fn } = traces();
    const event = fixture('aws', 'apigw-v2-post.json');
    event.headers = { ...event.headers, traceparent: TP, tracestate: 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE' };
    await handler({}, fn).aws(event, lambdaContext());
    expect(seen[0]).toEqual({ traceparent: TP, tracestate: TS });
  });

  it('refuses two traceparent headers (REST API multiValueHeaders) and starts a new trace', async () => {
    const { seen, fn } = traces();
    const event = fixture('aws', 'apigw-v1-post.json');
    event.multiValueHeaders = { ...event.multiValueHeaders, traceparent: [TP, '00-11111111111111111111111111111111-2222222222222222-01'] };
    await handler({}, fn).aws(event, lambdaContext());
    expect(seen[0]!.traceparent).not.toContain('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parseTraceparent(seen[0]!.traceparent)).toBeDefined();
  });

  it('maps X-Amzn-Trace-Id on AWS when no traceparent came; keeps a bad tracestate out', async () => {
    const { seen, fn } = traces();
    const event = fixture('aws', 'apigw-v2-post.json');
    event.headers = { ...event.headers, 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' };
    await handler({}, fn).aws(event, lambdaContext());
    expect(seen[0]).toEqual({ traceparent: '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01', tracestate: undefined });
  });

  it('reads the headers of an OpenWhisk web action', async () => {
    const { seen, fn } = traces();
    const params = fixture('openwhisk', 'web-json.json');
    params.__ow_headers = { ...params.__ow_headers, traceparent: TP };
    await handler({}, fn).openwhisk(params);
    expect(seen[0]!.traceparent).toBe(TP);
  });
});

describe('messages', () => {
  it('SQS: a traceparent string attribute wins; else AWSTraceHeader (X-Ray) is mapped', async () => {
    const { seen, fn } = traces();
    const event = fixture('aws', 'sqs-standard-batch.json');
    event.Records[1].messageAttributes = { traceparent: { stringValue: TP, dataType: 'String' }, tracestate: { stringValue: TS, dataType: 'String' } };
    await handler({}, fn).aws(event, lambdaContext());
    // Record 0 has only AWSTraceHeader: Root=1-67d3f9c4-6a5b4c3d2e1f0a9b8c7d6e5f;Parent=3c2b1a0f9e8d7c6b;Sampled=0
    expect(seen[0]).toEqual({ traceparent: '00-67d3f9c46a5b4c3d2e1f0a9b8c7d6e5f-3c2b1a0f9e8d7c6b-00', tracestate: undefined });
    expect(seen[1]).toEqual({ traceparent: TP, tracestate: TS });
  });

  it('Kafka (Amazon MSK): the traceparent record header', async () => {
    const { seen, fn } = traces();
    await handler({}, fn).aws(fixture('aws', 'msk-batch.json'), lambdaContext());
    expect(seen[0]!.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('Pub/Sub through the Functions Framework: a message attribute, else the googclient_ one, else the CloudEvent extension', async () => {
    const { seen, fn } = traces();
    const url = await serve('cloudEvent', handler({}, fn));
    const base = fixture('gcp', 'pubsub-message-published.json');
    const send = (ce: Json) => request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(ce));
    const withAttributes = (attributes: Json, extra: Json = {}) => ({ ...structuredClone(base), ...extra, data: { ...base.data, message: { ...base.data.message, attributes } } });
    expect((await send(withAttributes({ traceparent: TP }))).status).toBe(204);
    expect((await send(withAttributes({ googclient_traceparent: TP, googclient_tracestate: TS }))).status).toBe(204);
    expect((await send(withAttributes({}, { traceparent: TP }))).status).toBe(204);
    expect(seen).toEqual([
      { traceparent: TP, tracestate: undefined },
      { traceparent: TP, tracestate: TS },
      { traceparent: TP, tracestate: undefined },
    ]);
  });

  it('a CloudEvent in binary mode: the ce-traceparent / ce-tracestate headers (Distributed Tracing extension)', async () => {
    const { seen, fn } = traces();
    const url = await serve('cloudEvent', handler({}, fn));
    const headers = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'e-1', 'ce-type': 'com.example.order.placed', 'ce-source': '/orders', 'ce-traceparent': TP, 'ce-tracestate': TS };
    expect((await request(url).post('/').set(headers).send({ orderId: 'o-1' })).status).toBe(204);
    expect(seen[0]).toEqual({ traceparent: TP, tracestate: TS });
  });

  it('Azure Service Bus: the Diagnostic-Id application property the Azure SDKs set', async () => {
    const { seen, fn } = traces();
    const f = fixture('azure', 'service-bus-message.json');
    f.context.triggerMetadata.applicationProperties = { 'Diagnostic-Id': TP };
    await handler({}, fn).azure(f.message, invocationContext(f.context, trigger.serviceBusQueue({ queueName: 'payments', connection: 'c' })));
    expect(seen[0]!.traceparent).toBe(TP);
  });

  it('Azure Event Hubs: traceparent / Diagnostic-Id event properties, per event of a batch', async () => {
    const { seen, fn } = traces();
    const f = fixture('azure', 'event-hubs-batch.json');
    f.context.triggerMetadata.propertiesArray = [{ traceparent: TP }, {}, { 'Diagnostic-Id': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }];
    await handler({}, fn).azure(f.events, invocationContext(f.context, trigger.eventHub({ eventHubName: 'readings', connection: 'c', cardinality: 'many' })));
    expect(seen[0]!.traceparent).toBe(TP);
    expect(parseTraceparent(seen[1]!.traceparent)).toBeDefined();
    expect(seen[1]!.traceparent).not.toBe(TP);
    expect(seen[2]!.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('OpenWhisk: traceparent / tracestate params of a plain activation', async () => {
    const { seen, fn } = traces();
    await handler({}, fn).openwhisk({ orderId: 'o-1', traceparent: TP, tracestate: TS });
    expect(seen[0]).toEqual({ traceparent: TP, tracestate: TS });
  });
});

describe('ctx.traceparent itself', () => {
  it('is a new, stable trace when none came, and refuses an invalid value', async () => {
    let first = '';
    let second = '';
    let thrown: unknown;
    let set = '';
    await handler({}, (_input, ctx) => {
      first = ctx.traceparent;
      second = ctx.traceparent;
      try {
        ctx.traceparent = 'not-a-traceparent';
      } catch (error) {
        thrown = error;
      }
      ctx.traceparent = ` ${TP}`;
      set = ctx.traceparent;
    }).invoke({});
    expect(set).toBe(TP);
    expect(parseTraceparent(first)?.flags).toBe(1);
    expect(second).toBe(first);
    expect(thrown).toBeInstanceOf(TraceparentInvalidError);
    expect((thrown as TraceparentInvalidError).code).toBe('TRACEPARENT_INVALID');
  });

  it('gives each message of a batch its own new trace', async () => {
    const { seen, fn } = traces();
    const event = fixture('aws', 'sqs-fifo-batch.json');
    for (const record of event.Records) delete record.attributes.AWSTraceHeader;
    await handler({}, fn).aws(event, lambdaContext());
    expect(seen.length).toBeGreaterThan(1);
    const ids = new Set(seen.map((s) => parseTraceparent(s.traceparent)!.traceId));
    expect(ids.size).toBe(seen.length);
  });
});
