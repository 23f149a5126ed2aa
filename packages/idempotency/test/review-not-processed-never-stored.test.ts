/**
 * Review: in an ordered batch (an SQS FIFO queue), the messages after one that failed never run:
 * the core fails each with `503 NOT_PROCESSED` (retryable), so the queue redelivers them after
 * the one that failed. Their records were claimed for the batch, and with a `cacheErrors`
 * function that said yes to it (`() => true`, or `(e) => e.status >= 500`) `NOT_PROCESSED` was
 * stored as the message's answer: every redelivery replayed `NOT_PROCESSED` without ever running
 * the message, until `ttlMs` ended or the queue gave it up to its dead-letter queue. Like the
 * deadline's cut-off, it is never stored now; the record is released (the message never ran).
 * On Redis, through the Lambda SQS FIFO event shape.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { handler, TerminalError, type SteadyError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { lambdaContext, silentSink, useBackend } from './support.js';

type SqsRecord = { messageId: string; receiptHandle: string; body: string; attributes: Record<string, string> };
const FIFO = JSON.parse(readFileSync(new URL('../../handler/test/fixtures/aws/sqs-fifo-batch.json', import.meta.url), 'utf8')) as { Records: SqsRecord[] };

/** A FIFO batch of one message group, as Lambda delivers it: one record per body, in order, fresh ids. */
function fifoBatch(ids: string[], bodies: unknown[]): { Records: SqsRecord[] } {
  return {
    Records: ids.map((messageId, i) => {
      const record = structuredClone(FIFO.Records[0]!);
      record.messageId = messageId;
      record.receiptHandle = `rh-${randomUUID()}`;
      record.body = JSON.stringify(bodies[i]);
      record.attributes.MessageDeduplicationId = `dedup-${messageId}`;
      record.attributes.SequenceNumber = String(18880965000000000001n + BigInt(i));
      return record;
    }),
  };
}

describe('review: NOT_PROCESSED (an ordered batch\'s unrun messages) is never stored, whatever cacheErrors says (redis)', () => {
  const backend = useBackend('redis');

  function make(name: string, cacheErrors: (error: SteadyError) => boolean) {
    const runs = new Map<number, number>();
    let failSecond = true;
    const main = handler({ name, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, cacheErrors })] }, async (input: unknown) => {
      const n = (input as { n: number }).n;
      runs.set(n, (runs.get(n) ?? 0) + 1);
      if (n === 2 && failSecond) throw new TerminalError('OUT_OF_STOCK', 'Out of stock', { status: 409 });
      return { n };
    });
    return { main, runs, heal: () => (failSecond = false) };
  }

  it('cacheErrors: (e) => e.status >= 500 — the redelivered message runs instead of replaying NOT_PROCESSED', async () => {
    const name = `np-${randomUUID()}`;
    const { main, runs, heal } = make(name, (e) => e.status >= 500);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const bodies = [{ n: 1 }, { n: 2 }, { n: 3 }];
    expect(await main.aws(fifoBatch(ids, bodies), lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }, { itemIdentifier: ids[2] }] });
    expect(runs.get(3)).toBeUndefined();
    // The queue redelivers the failed message and the one after it, in order; the first now succeeds.
    heal();
    expect(await main.aws(fifoBatch(ids.slice(1), bodies.slice(1)), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect([runs.get(1), runs.get(2), runs.get(3)]).toEqual([1, 2, 1]);
    expect(await backend.store.get(storeKey(scopeOf(name), { kind: 'delivery', value: ids[2]! }))).toMatchObject({ status: 'completed' });
  });

  it('cacheErrors: () => true — the failed message keeps its stored error, the unrun one after it holds no record', async () => {
    const name = `np-${randomUUID()}`;
    const { main, runs } = make(name, () => true);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    expect(await main.aws(fifoBatch(ids, [{ n: 1 }, { n: 2 }, { n: 3 }]), lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }, { itemIdentifier: ids[2] }] });
    const recordOf = (id: string) => backend.store.get(storeKey(scopeOf(name), { kind: 'delivery', value: id }));
    // The same key form finds the message that ran and the one whose error cacheErrors chose to store.
    expect(await recordOf(ids[0]!)).toMatchObject({ status: 'completed' });
    expect(await recordOf(ids[1]!)).toMatchObject({ status: 'completed' });
    // The message that never ran: released, not completed with NOT_PROCESSED.
    expect(await recordOf(ids[2]!)).toBeUndefined();
    expect(runs.get(3)).toBeUndefined();
  });
});
