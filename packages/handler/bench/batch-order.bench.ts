/**
 * What `batchOrder` costs on a 100-message standard SQS batch through `main.aws`, against the
 * same batch with a plugin that has no `batchOrder` (every message side by side), measured in
 * the same run: 100 groups of one (the hook's own cost), 10 groups of 10 and one group of 100
 * (messages awaited one after another: the cost of running a group in order).
 */
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { handler, type Plugin } from '../src/index.js';

const sqs = JSON.parse(readFileSync(new URL('../test/fixtures/aws/sqs-standard-batch.json', import.meta.url), 'utf8')) as { Records: Array<Record<string, unknown>> };
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };
const batchOf = (groups: number) => ({
  Records: Array.from({ length: 100 }, (_, i) => ({ ...sqs.Records[0], messageId: `m-${i}`, body: JSON.stringify({ group: `g${i % groups}`, seq: 100 - i }) })),
});
const plain: Plugin = { name: 'plain', before: () => undefined };
const ordering: Plugin = { name: 'ordering', before: () => undefined, batchOrder: (ctx) => ctx.input as { group: string; seq: number } };
const unordered = handler({ use: [plain], logSink: () => undefined }, () => undefined);
const ordered = handler({ use: [ordering], logSink: () => undefined }, () => undefined);
type Row = { latency: { p50?: number } };

test('batchOrder against the same batch run side by side', async ({ bench }) => {
  const [solo, ten, one] = [batchOf(100), batchOf(10), batchOf(1)];
  const results = await bench.compare(
    bench('no batchOrder, 100 messages', async () => void (await unordered.aws(solo, lambdaContext))),
    bench('batchOrder, 100 groups of 1', async () => void (await ordered.aws(solo, lambdaContext))),
    bench('batchOrder, 10 groups of 10', async () => void (await ordered.aws(ten, lambdaContext))),
    bench('batchOrder, 1 group of 100', async () => void (await ordered.aws(one, lambdaContext))),
  );
  const p50 = (name: string) => ((results.get(name as never) as unknown as Row).latency.p50 ?? Number.NaN) * 1000;
  const base = 'no batchOrder, 100 messages';
  for (const name of ['batchOrder, 100 groups of 1', 'batchOrder, 10 groups of 10', 'batchOrder, 1 group of 100']) {
    console.log(`[bench] ${name}: p50 ${p50(name).toFixed(1)} µs, ${(p50(name) / p50(base)).toFixed(2)}× ${base} (${p50(base).toFixed(1)} µs)`);
  }
});
