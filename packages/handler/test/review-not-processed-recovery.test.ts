/**
 * A message an ordered batch did not run (the rest of a FIFO SQS batch, or of a `batchOrder`
 * group, after a failure) fails with the retryable `NOT_PROCESSED` so the queue redelivers it.
 * Its `onError` hooks run — but when a plugin with batch hooks (the idempotency plugin has them)
 * made the batch run through `beforeBatch`, an `onError` answer recovered it: a fallback plugin
 * that answers retryable failures from a cache had the FIFO queue delete messages the function
 * never ran. Without batch hooks the same batch reported them. Such a message cannot be
 * recovered: every `onError` still runs, and its answer is ignored. Nor can a hook that throws
 * replace its error: a terminal replacement with `terminalErrors: 'ack'` had SQS delete it unrun.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler, RetryableError, TerminalError, type Plugin } from '../src/index.js';
import { sqsRecord } from './support/sqs.js';

const fifo = JSON.parse(readFileSync(new URL('./fixtures/aws/sqs-fifo-batch.json', import.meta.url), 'utf8')) as { Records: Array<{ messageId: string }> };
const context = { awsRequestId: 'req', functionName: 'f', getRemainingTimeInMillis: () => 60_000 };

/** Answers any retryable failure from a cache (a circuit-breaker fallback); records the codes it saw. */
function fallback(seen: string[]): Plugin {
  return { name: 'cache-fallback', onError: (_ctx, error) => (seen.push(error.code), error.retryable ? { answer: 'cached' } : undefined) };
}
/** A plugin with batch hooks, as the idempotency plugin has: the batch runs through `beforeBatch`. */
const batchHooks: Plugin = { name: 'batch-store', beforeBatch: () => undefined, afterBatch: () => undefined };

describe('a message an ordered batch did not run is not recovered by onError', () => {
  for (const [name, use] of [
    ['without batch hooks', (seen: string[]) => [fallback(seen)]],
    ['with batch hooks', (seen: string[]) => [batchHooks, fallback(seen)]],
  ] as const) {
    it(`FIFO SQS, ${name}: every message after the failed one is reported; onError still ran for each`, async () => {
      const seen: string[] = [];
      const ran: number[] = [];
      const main = handler({ use: use(seen), logSink: () => undefined }, (_input, ctx) => {
        if (ctx.trigger.kind === 'queue') ran.push(ctx.trigger.batchIndex);
        throw new TerminalError('ORDER_INVALID', 'invalid');
      });
      const answer = await main.aws(structuredClone(fifo), context);
      expect(answer).toEqual({ batchItemFailures: fifo.Records.map((r) => ({ itemIdentifier: r.messageId })) });
      expect(ran).toEqual([0]);
      if (name === 'with batch hooks') expect(seen).toEqual(['ORDER_INVALID', 'NOT_PROCESSED', 'NOT_PROCESSED', 'NOT_PROCESSED']);
    });
  }

  it('a batchOrder group of a standard queue: the rest of the group is reported, other messages are not', async () => {
    const seen: string[] = [];
    const group: Plugin = { name: 'aggregate', batchOrder: (ctx) => (ctx.trigger.kind === 'queue' && ctx.trigger.messageId.startsWith('a') ? { group: 'a' } : undefined) };
    const main = handler({ use: [group, fallback(seen)], logSink: () => undefined }, (_input, ctx) => {
      if (ctx.trigger.kind === 'queue' && ctx.trigger.messageId === 'a1') throw new TerminalError('ORDER_INVALID', 'invalid');
    });
    const answer = await main.aws({ Records: [sqsRecord('a1', {}), sqsRecord('b1', {}), sqsRecord('a2', {})] }, context);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'a1' }, { itemIdentifier: 'a2' }] });
    expect(seen).toEqual(['ORDER_INVALID', 'NOT_PROCESSED']);
  });

  it('FIFO SQS with terminalErrors ack: an onError that throws a TerminalError does not get a message that was not run acknowledged', async () => {
    const lines: string[] = [];
    const seen: string[] = [];
    // A hook that turns every error it does not know into a terminal one (its own throw, a bug).
    const replacer: Plugin = {
      name: 'replacer',
      onError: (_ctx, error) => {
        seen.push(error.code);
        if (error.code !== 'DOWNSTREAM_BUSY') throw new TerminalError('REPLACED', 'replacement text 93');
      },
    };
    const main = handler({ use: [batchHooks, replacer], terminalErrors: 'ack', logLevel: 'warn', logSink: (l) => lines.push(l) }, (_input, ctx) => {
      if (ctx.trigger.kind === 'queue' && ctx.trigger.batchIndex === 0) throw new RetryableError('DOWNSTREAM_BUSY', 'busy');
    });
    const answer = await main.aws(structuredClone(fifo), context);
    // Acknowledged, the never-run messages would be deleted by SQS.
    expect(answer).toEqual({ batchItemFailures: fifo.Records.map((r) => ({ itemIdentifier: r.messageId })) });
    expect(seen).toEqual(['DOWNSTREAM_BUSY', 'NOT_PROCESSED', 'NOT_PROCESSED', 'NOT_PROCESSED']);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin onError hook failed'))).toHaveLength(fifo.Records.length - 1);
    expect(lines.join('\n')).not.toContain('replacement text 93');
  });

  it('a failure of the function itself is still recovered by an onError answer', async () => {
    const main = handler({ use: [batchHooks, fallback([])], logSink: () => undefined }, () => {
      throw new Error('downstream down');
    });
    await expect(main.aws(structuredClone(fifo), context)).resolves.toEqual({ batchItemFailures: [] });
  });
});
