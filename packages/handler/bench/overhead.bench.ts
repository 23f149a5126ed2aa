/**
 * What the wrapper adds to one invocation, with no plugins, against a bare async function
 * measured in the same run. Goal: ≤ 2 µs added at p50 for a direct call.
 *
 * The HTTP cases run a small JSON POST through the Lambda adapter (the body as text, and as
 * API Gateway's base64) and through a raw OpenWhisk web action (base64 JSON), from request
 * event to response object: they show what reading the body costs on the hot path.
 *
 * Two measures: tinybench's wall-clock p50 (one case after the other), and CPU time per call
 * (process.cpuUsage over batches of 2,000 calls, the cases interleaved batch by batch, p50 of
 * 100 batches each), which a shared, loaded machine disturbs far less.
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
  const cpu = await cpuPerCall({
    'bare async function': () => bare({ n: 1 }),
    'handler: direct call': () => wrapped.invoke({ n: 1 }),
    'handler: Lambda invoke with a deadline': () => wrapped({ n: 1 }, lambdaContext),
    'handler: Lambda HTTP JSON POST (text body)': () => wrapped.aws(httpTextEvent, lambdaContext),
  });
  const cpuBase = cpu['bare async function']!;
  for (const [name, v] of Object.entries(cpu)) {
    if (name === 'bare async function') continue;
    const goal = name.includes('POST') ? '' : ' (goal ≤ 2 µs)';
    console.log(`[bench] CPU time: ${name}: p50 ${v.toFixed(2)} µs, bare function ${cpuBase.toFixed(2)} µs, +${(v - cpuBase).toFixed(2)} µs${goal}`);
  }
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

/** CPU µs per call of each case: p50 over interleaved batches (order reversed every round). */
async function cpuPerCall(cases: Record<string, () => Promise<unknown>>, rounds = 100, batch = 2000): Promise<Record<string, number>> {
  const names = Object.keys(cases);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -5; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const run = cases[name]!;
      const start = process.cpuUsage();
      for (let i = 0; i < batch; i++) await run();
      const used = process.cpuUsage(start);
      // The first rounds warm up (optimisation); they are not counted.
      if (round >= 0) samples[name]!.push((used.user + used.system) / batch);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}
