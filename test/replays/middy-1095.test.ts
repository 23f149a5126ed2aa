/**
 * middyjs/middy#1095 ("sqsPartialBatchFailureMiddleware Errors outside handler cause infinite
 * loop"; the Stack Overflow report "Endless dead letter queue (DLQ) processing when middy.js
 * sqs queue validator fails")
 * https://github.com/middyjs/middy/issues/1095
 *
 * A validator middleware ran on the whole SQS event before the handler; one malformed message
 * made it throw, the partial-batch middleware never saw the records, and the invocation failed
 * as a whole. Lambda returned every message of the batch to the queue — the valid ones too —
 * and, with the malformed one in every batch, they cycled until each reached the DLQ.
 *
 * steadyfn validates each message on its own: a message that fails the schema is that
 * message's failure (`400 VALIDATION_FAILED`, terminal), the others run and are acknowledged.
 * Replayed: a batch of three orders where the middle one lacks its `quantity`; the valid two
 * run once, the answer names only the malformed one — and with `terminalErrors: 'ack'` it is
 * acknowledged too, so nothing cycles.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, logLines, sqsRecord } from './support.js';

const Order = z.object({ orderId: z.string(), quantity: z.number().int().positive() });
const batch = () => [
  sqsRecord('{"orderId":"o-1","quantity":2}', { id: 'm-1' }),
  sqsRecord('{"orderId":"o-2"}', { id: 'm-2' }),
  sqsRecord('{"orderId":"o-3","quantity":1}', { id: 'm-3' }),
];

describe('middy#1095: one message failing validation fails only itself, not the batch', () => {
  it('the valid messages run and are acknowledged; only the malformed one is reported', async () => {
    const ran: string[] = [];
    const logs = logLines();
    const main = handler({ logSink: logs.sink, logLevel: 'warn', body: 'json', input: Order }, (order) => {
      ran.push(order.orderId);
    });
    const answer = await main.aws({ Records: batch() }, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    expect(ran.sort()).toEqual(['o-1', 'o-3']);
    expect(logs.lines.filter((l) => JSON.stringify(l).includes('VALIDATION_FAILED')).length).toBeGreaterThan(0);
  });

  it("with terminalErrors: 'ack' the malformed message is acknowledged too (no redelivery loop)", async () => {
    const ran: string[] = [];
    const main = handler({ logSink: () => undefined, body: 'json', input: Order, terminalErrors: 'ack' }, (order) => {
      ran.push(order.orderId);
    });
    expect(await main.aws({ Records: batch() }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran.sort()).toEqual(['o-1', 'o-3']);
  });
});
