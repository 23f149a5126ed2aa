/**
 * Every log line carries the invocation id, on every provider. The lines about a batch as a
 * whole — a `beforeBatch` that failed (`error`), an `afterBatch` that failed (`warn`) — had
 * only `provider` and `coldStart`: no `requestId`, no `fn`, no OpenWhisk `transactionId`, so an
 * operator could not tie them to the call (or to the per-message lines that follow them).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvocationContext, trigger } from '@azure/functions';
import { handler, type Plugin } from '../src/index.js';

const fixture = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8')) as Record<string, any>;

function failingBatchHooks(): Plugin {
  return {
    name: 'batch-store',
    beforeBatch: () => {
      throw new Error('store down (password=hunter2)');
    },
    afterBatch: () => {
      throw new Error('store down (password=hunter2)');
    },
  };
}

function batchLines(lines: string[]): Array<Record<string, unknown>> {
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const batch = records.filter((r) => r.msg === 'plugin beforeBatch hook failed' || r.msg === 'plugin afterBatch hook failed');
  // Both hooks threw: one line each.
  expect(batch.map((r) => r.msg).sort()).toEqual(['plugin afterBatch hook failed', 'plugin beforeBatch hook failed']);
  expect(lines.join('\n')).not.toMatch(/hunter2/);
  return batch;
}

const lambdaContext = { awsRequestId: 'aws-req-7', functionName: 'orders', getRemainingTimeInMillis: () => 10_000 };

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('log lines about a whole batch', () => {
  it('Lambda SQS: carry the Lambda request id and the function name', async () => {
    const lines: string[] = [];
    const main = handler({ use: [failingBatchHooks()], logLevel: 'warn', logSink: (l) => lines.push(l) }, () => 1);
    const res = (await main.aws(fixture('aws/sqs-standard-batch.json'), lambdaContext)) as { batchItemFailures: unknown[] };
    expect(res.batchItemFailures).toHaveLength(3);
    for (const line of batchLines(lines)) expect(line).toMatchObject({ fn: 'orders', provider: 'aws', requestId: 'aws-req-7', plugin: 'batch-store' });
  });

  it('Lambda Kinesis: the same', async () => {
    const lines: string[] = [];
    const main = handler({ use: [failingBatchHooks()], logLevel: 'warn', logSink: (l) => lines.push(l) }, () => 1);
    await main.aws(fixture('aws/kinesis-batch.json'), lambdaContext);
    for (const line of batchLines(lines)) expect(line).toMatchObject({ fn: 'orders', provider: 'aws', requestId: 'aws-req-7' });
  });

  it('Azure Service Bus (cardinality many): carry the invocation id', async () => {
    const lines: string[] = [];
    const f = fixture('azure/service-bus-batch.json');
    const context = new InvocationContext({
      invocationId: f.context.invocationId,
      functionName: f.context.functionName,
      options: { trigger: { ...trigger.serviceBusQueue({ queueName: 'payments', connection: 'c', cardinality: 'many' }), direction: 'in' } as never },
      triggerMetadata: structuredClone(f.context.triggerMetadata),
      logHandler: () => undefined,
    });
    const main = handler({ use: [failingBatchHooks()], logLevel: 'warn', logSink: (l) => lines.push(l) }, () => 1);
    await expect(main.azure(structuredClone(f.messages), context)).rejects.toMatchObject({ code: 'INTERNAL' });
    for (const line of batchLines(lines)) expect(line).toMatchObject({ fn: f.context.functionName, provider: 'azure', requestId: f.context.invocationId });
  });

  it('OpenWhisk Kafka feed: carry the activation id and the transaction id', async () => {
    vi.stubEnv('__OW_ACTIVATION_ID', 'act-batch-1');
    vi.stubEnv('__OW_TRANSACTION_ID', 'tx-9');
    vi.stubEnv('__OW_ACTION_NAME', '/ns/orders');
    const lines: string[] = [];
    const main = handler({ use: [failingBatchHooks()], logLevel: 'warn', logSink: (l) => lines.push(l) }, () => 1);
    const result = (await main.openwhisk(fixture('openwhisk/kafka-text.json'))) as { error?: { code: string } };
    expect(result.error).toMatchObject({ code: 'INTERNAL' });
    for (const line of batchLines(lines)) expect(line).toMatchObject({ fn: '/ns/orders', provider: 'openwhisk', requestId: 'act-batch-1', transactionId: 'tx-9' });
  });
});
