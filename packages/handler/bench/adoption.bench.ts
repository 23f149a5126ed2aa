/**
 * What the adoption paths cost per invocation, each against its baseline in the same run:
 *
 * - a steadyfn plugin on middy (`toMiddy`, and with `steadyHandler`) against a hand-written
 *   middy middleware doing the same nothing, on an API Gateway HTTP API event;
 * - `tracing()` with the real OpenTelemetry SDK (a span per invocation, exported to memory)
 *   against the same handler without it;
 * - reading `ctx.traceparent` (parsing the incoming header) against not reading it.
 */
import { readFileSync } from 'node:fs';
import middy from '@middy/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { test } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';
import { tracing } from '../src/tracing.js';

const fixture = (path: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../test/fixtures/${path}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const event = { ...fixture('aws/apigw-v2-post.json'), body: '{"n":1}', isBase64Encoded: false, headers: { 'content-type': 'application/json', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } };
const lambdaContext = () => ({ awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 });
const silent = { logSink: () => undefined };

const result = { statusCode: 200, body: 'ok' };
const plainMiddy = middy(async () => result).use({ before: async () => undefined });
const steadyMiddy = middy(async () => result).use(toMiddy({ name: 'noop', before: () => undefined }, silent));
const steadyMiddyWrapped = middy(steadyHandler(async () => result)).use(toMiddy({ name: 'noop', before: () => undefined }, silent));

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('bench');
const untraced = handler(silent, () => 'ok');
const traced = handler({ ...silent, use: [tracing({ tracer })] }, () => 'ok');
const readsTrace = handler(silent, (_i, ctx: Context) => ctx.traceparent);

function p50(results: Map<string, unknown>, name: string): number {
  return ((results.get(name) as { latency: { p50?: number } }).latency.p50 ?? Number.NaN) * 1000; // ms -> µs
}

function print(results: Map<string, unknown>, base: string, names: string[]): void {
  const b = p50(results, base);
  console.log(`[bench] ${base}: p50 ${b.toFixed(2)} µs`);
  for (const name of names) {
    const v = p50(results, name);
    console.log(`[bench] ${name}: p50 ${v.toFixed(2)} µs, ${(v / b).toFixed(2)}× ${base}, +${(v - b).toFixed(2)} µs`);
  }
}

test('a steadyfn plugin on middy against a plain middy middleware', async ({ bench }) => {
  const results = await bench.compare(
    bench('middy + plain middleware', async () => void (await plainMiddy(event, lambdaContext() as never))),
    bench('middy + toMiddy(plugin)', async () => void (await steadyMiddy(event, lambdaContext() as never))),
    bench('middy + toMiddy(plugin) + steadyHandler', async () => void (await steadyMiddyWrapped(event, lambdaContext() as never))),
  );
  print(results as unknown as Map<string, unknown>, 'middy + plain middleware', ['middy + toMiddy(plugin)', 'middy + toMiddy(plugin) + steadyHandler']);
});

test('tracing() and ctx.traceparent against the same handler without them', async ({ bench }) => {
  const results = await bench.compare(
    bench('handler, HTTP', async () => void (await untraced.aws(event, lambdaContext()))),
    bench('handler, HTTP, reads ctx.traceparent', async () => void (await readsTrace.aws(event, lambdaContext()))),
    bench('handler, HTTP, tracing() span', async () => {
      await traced.aws(event, lambdaContext());
      exporter.reset();
    }),
  );
  print(results as unknown as Map<string, unknown>, 'handler, HTTP', ['handler, HTTP, reads ctx.traceparent', 'handler, HTTP, tracing() span']);
});
