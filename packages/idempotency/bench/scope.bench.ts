/**
 * What scoping keys by caller costs: the duplicate path of an HTTP request from an
 * authenticated caller (an HTTP API JWT authorizer event through the Lambda adapter, answered
 * from the local cache, so no store call hides the CPU work) with `scope: 'principal'` (reads
 * `ctx.principal`, one more SHA-256) against `scope: 'none'`, measured in the same run.
 *
 *   pnpm vitest bench --run packages/idempotency/bench/scope.bench.ts
 */
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, memoryStore, type IdempotencyOptions } from '../src/index.js';
import { recordBench } from '../../../test/support/bench-results.js';

const event = JSON.parse(readFileSync(new URL('../../handler/test/fixtures/aws/published/apigw-http-v2-jwt.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };

const make = (scope: IdempotencyOptions['scope']) =>
  handler({ name: 'scope-bench', logSink: () => undefined, use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, scope })] }, (input) => ({ ok: true, input }));

type Name = "duplicate, scope: 'none'" | "duplicate, scope: 'principal'";

test('idempotency: scoping an HTTP key by the caller, duplicate path', async ({ bench }) => {
  const none = make('none');
  const principal = make('principal');
  // The first call stores the record; every measured call is a duplicate served from the local cache.
  await none.aws(event, lambdaContext);
  await principal.aws(event, lambdaContext);
  const results = await bench.compare(
    bench("duplicate, scope: 'none'", async () => {
      await none.aws(event, lambdaContext);
    }),
    bench("duplicate, scope: 'principal'", async () => {
      await principal.aws(event, lambdaContext);
    }),
  );
  const p50 = (name: Name) => ((results.get(name) as unknown as { latency: { p50?: number } }).latency.p50 ?? Number.NaN) * 1000; // ms -> µs
  const base = p50("duplicate, scope: 'none'");
  const scoped = p50("duplicate, scope: 'principal'");
  console.log(`[bench] idempotency scope: 'principal' ${scoped.toFixed(2)} µs vs 'none' ${base.toFixed(2)} µs p50 per duplicate HTTP call: ${(scoped / base).toFixed(2)}×, +${(scoped - base).toFixed(2)} µs`);
  recordBench({ key: 'idempotency.scope.principal', value: scoped / base, unit: '×', detail: `p50 ${scoped.toFixed(2)} µs vs ${base.toFixed(2)} µs with scope 'none', HTTP API JWT event, duplicate from the local cache, tinybench` });
});
