/**
 * What the wrapper adds to one invocation, with no plugins, against a bare async function
 * measured in the same run. Goal: ≤ 2 µs added at p50 for a direct call.
 *
 * The HTTP cases run a small JSON POST through the Lambda adapter (the body as text, and as
 * API Gateway's base64) and through a raw OpenWhisk web action (base64 JSON), from request
 * event to response object: they show what reading the body costs on the hot path.
 */
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { handler } from '../src/index.js';
import { recordBench } from '../../../test/support/bench-results.js';

const bare = async (input: { n: number }) => ({ n: input.n + 1 });
const wrapped = handler({ logSink: () => undefined }, async (input: unknown) => ({ n: (input as { n: number }).n + 1 }));
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };

const fixture = (path: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../test/fixtures/${path}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const jsonBody = JSON.stringify({ n: 1, orderId: 'o-2002', note: 'gift wrap' });
const httpTextEvent = { ...fixture('aws/apigw-v2-post.json'), body: jsonBody, isBase64Encoded: false };
const httpBase64Event = { ...fixture('aws/apigw-v2-post.json'), body: Buffer.from(jsonBody).toString('base64'), isBase64Encoded: true };
const owRawParams = { ...fixture('openwhisk/web-raw-json.json'), __ow_body: Buffer.from(jsonBody).toString('base64') };
process.env.__OW_ACTIVATION_ID = 'bench';

type Name =
  | 'bare async function'
  | 'handler: direct call'
  | 'handler: Lambda invoke with a deadline'
  | 'handler: Lambda HTTP JSON POST (text body)'
  | 'handler: Lambda HTTP JSON POST (base64 body)'
  | 'handler: OpenWhisk raw web JSON POST (base64 body)';

test('wrapper overhead per invocation, no plugins', async ({ bench }) => {
  const results = await bench.compare(
    bench('bare async function', async () => {
      await bare({ n: 1 });
    }),
    bench('handler: direct call', async () => {
      await wrapped.invoke({ n: 1 });
    }),
    bench('handler: Lambda invoke with a deadline', async () => {
      await wrapped({ n: 1 }, lambdaContext);
    }),
    bench('handler: Lambda HTTP JSON POST (text body)', async () => {
      await wrapped.aws(httpTextEvent, lambdaContext);
    }),
    bench('handler: Lambda HTTP JSON POST (base64 body)', async () => {
      await wrapped.aws(httpBase64Event, lambdaContext);
    }),
    bench('handler: OpenWhisk raw web JSON POST (base64 body)', async () => {
      await wrapped.openwhisk(owRawParams);
    }),
  );
  const p50 = (name: Name) => {
    const r = results.get(name) as unknown as { latency: { p50?: number } };
    return (r.latency.p50 ?? Number.NaN) * 1000; // ms -> µs
  };
  const base = p50('bare async function');
  for (const name of [
    'handler: direct call',
    'handler: Lambda invoke with a deadline',
    'handler: Lambda HTTP JSON POST (text body)',
    'handler: Lambda HTTP JSON POST (base64 body)',
    'handler: OpenWhisk raw web JSON POST (base64 body)',
  ] as const) {
    const v = p50(name);
    const goal = name.includes('POST') ? '' : ' (goal ≤ 2 µs)';
    console.log(`[bench] ${name}: p50 ${v.toFixed(2)} µs, ${(v / base).toFixed(2)}× the bare function, +${(v - base).toFixed(2)} µs${goal}`);
  }
  const added = (name: Name) => ({ value: p50(name) - base, unit: 'µs' as const, detail: `p50 ${p50(name).toFixed(2)} µs vs ${base.toFixed(2)} µs for a bare async function (${(p50(name) / base).toFixed(2)}×), no plugins, tinybench` });
  recordBench(
    { key: 'handler.overhead.direct', ...added('handler: direct call') },
    { key: 'handler.overhead.lambda', ...added('handler: Lambda invoke with a deadline') },
    { key: 'handler.overhead.http', ...added('handler: Lambda HTTP JSON POST (text body)') },
  );
});
