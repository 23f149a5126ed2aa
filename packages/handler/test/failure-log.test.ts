/**
 * Review finding: a queue message that failed validation was logged as
 * `{"msg":"invocation rejected","code":"VALIDATION_FAILED"}` and nothing else. A queue has no
 * caller to read the problem details, so the message went to its dead-letter queue and the
 * operator could not tell which field was wrong. The log names the fields and what was
 * expected — never the messages, which a refinement may write with a value in them.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, SteadyError } from '../src/index.js';
import { sqsRecord } from './support/sqs.js';

const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };


const Order = z.object({
  sku: z.string(),
  qty: z.number().int(),
  card: z.string().refine((v) => v.length === 16, { error: (issue) => `card ${String(issue.input)} is not 16 digits` }),
});

describe('a message that fails validation', () => {
  it('is logged with the fields at fault and what was expected, no values', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const main = handler({ input: Order, logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, () => undefined);
    const answer = await main.aws({ Records: [sqsRecord('m0', { sku: 'a', qty: 'two', card: '4111-secret-99' })] }, lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const rejected = lines.find((l) => l.msg === 'invocation rejected');
    expect(rejected).toMatchObject({ code: 'VALIDATION_FAILED', trigger: 'queue', deliveryId: 'm0', issues: [{ field: 'qty', expected: 'number' }, { field: 'card' }] });
    expect(JSON.stringify(lines)).not.toContain('4111-secret-99');
    expect(JSON.stringify(lines)).not.toContain('two');
  });

  it('logs at most 10 issues', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const wide = z.object(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${i}`, z.string()])));
    const main = handler({ input: wide, logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, () => undefined);
    await main.aws({ Records: [sqsRecord('m0', {})] }, lambdaContext);
    const rejected = lines.find((l) => l.msg === 'invocation rejected') as { issues: unknown[] };
    expect(rejected.issues).toHaveLength(10);
  });
});

describe('an error that chooses its log level and facts', () => {
  it('is logged at its logLevel with its logFields, which never replace the core fields', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const main = handler({ logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, (input: unknown) => {
      const which = (input as { which: string }).which;
      if (which === 'expected') throw new SteadyError('WAIT_FOR_IT', 'not yet', { status: 503, logLevel: 'warn', logFields: { partition: 'p-1', offset: 7, code: 'NOT_MINE' } });
      throw new SteadyError('BROKEN', 'broken', { status: 503 });
    });
    const answer = await main.aws({ Records: [sqsRecord('m0', { which: 'expected' }), sqsRecord('m1', { which: 'broken' })] }, lambdaContext);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }] });
    const failures = lines.filter((l) => l.msg === 'invocation failed');
    expect(failures.find((l) => l.deliveryId === 'm0')).toMatchObject({ level: 'warn', code: 'WAIT_FOR_IT', partition: 'p-1', offset: 7, retryable: true });
    expect(failures.find((l) => l.deliveryId === 'm1')).toMatchObject({ level: 'error', code: 'BROKEN' });
  });

  it('defaults to error at 5xx and warn below', () => {
    expect(new SteadyError('A', 'a', { status: 500 }).logLevel).toBe('error');
    expect(new SteadyError('A', 'a', { status: 409 }).logLevel).toBe('warn');
    expect(new SteadyError('A', 'a', { status: 409, logLevel: 'error' }).logLevel).toBe('error');
  });
});
