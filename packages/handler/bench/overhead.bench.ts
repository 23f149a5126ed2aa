/**
 * What the wrapper adds to one invocation, with no plugins, against a bare async function
 * measured in the same run. Goal: ≤ 2 µs added at p50.
 */
import { test } from 'vitest';
import { handler } from '../src/index.js';

const bare = async (input: { n: number }) => ({ n: input.n + 1 });
const wrapped = handler({ logSink: () => undefined }, async (input: unknown) => ({ n: (input as { n: number }).n + 1 }));
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };

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
  );
  const p50 = (name: 'bare async function' | 'handler: direct call' | 'handler: Lambda invoke with a deadline') => {
    const r = results.get(name) as unknown as { latency: { p50?: number } };
    return (r.latency.p50 ?? Number.NaN) * 1000; // ms -> µs
  };
  const base = p50('bare async function');
  for (const name of ['handler: direct call', 'handler: Lambda invoke with a deadline'] as const) {
    const v = p50(name);
    console.log(`[bench] ${name}: p50 ${v.toFixed(2)} µs, ${(v / base).toFixed(2)}× the bare function, +${(v - base).toFixed(2)} µs (goal ≤ 2 µs)`);
  }
});
