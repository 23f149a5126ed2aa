/**
 * aws-powertools/powertools-lambda-typescript#3673 (fixed by PR #3674)
 * https://github.com/aws-powertools/powertools-lambda-typescript/issues/3673
 *
 * The SQS FIFO batch processor kept the message groups that had failed in one invocation in
 * instance state and never cleared it, so on the next warm invocation every message of those
 * groups was skipped and reported failed without running — the group stalled until the
 * messages reached the dead-letter queue.
 *
 * steadyfn stops a FIFO batch at its first failure (that message and every later one are
 * reported). Replayed: the same handler instance gets a batch whose group `g-a` fails, then the
 * redelivered batch of the same group; the second must run every message and report none.
 */
import { handler, TerminalError } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, sqsRecord } from './support.js';

describe('powertools-lambda-typescript#3673: a FIFO group that failed in one invocation runs in the next', () => {
  it('the redelivered messages of a failed group are run on the same warm instance, not skipped', async () => {
    const ran: string[] = [];
    let failOnce = true;
    const main = handler({ logSink: () => undefined, body: 'json', input: z.object({ id: z.string() }) }, (input) => {
      ran.push(input.id);
      if (input.id === 'a1' && failOnce) {
        failOnce = false;
        throw new TerminalError('DOWNSTREAM_REFUSED', 'refused once');
      }
    });
    const first = [sqsRecord('{"id":"a1"}', { id: 'm-a1', groupId: 'g-a', seq: 1 }), sqsRecord('{"id":"a2"}', { id: 'm-a2', groupId: 'g-a', seq: 2 }), sqsRecord('{"id":"b1"}', { id: 'm-b1', groupId: 'g-b', seq: 3 })];
    const answer1 = await main.aws({ Records: first }, lambdaContext());
    expect(ran).toEqual(['a1']);
    expect(answer1).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a1' }, { itemIdentifier: 'm-a2' }, { itemIdentifier: 'm-b1' }] });

    // SQS redelivers the group in order (the same message ids), with the next message of g-a.
    const second = [sqsRecord('{"id":"a1"}', { id: 'm-a1', groupId: 'g-a', seq: 1 }), sqsRecord('{"id":"a2"}', { id: 'm-a2', groupId: 'g-a', seq: 2 }), sqsRecord('{"id":"a3"}', { id: 'm-a3', groupId: 'g-a', seq: 4 }), sqsRecord('{"id":"b1"}', { id: 'm-b1', groupId: 'g-b', seq: 3 })];
    const answer2 = await main.aws({ Records: second }, lambdaContext());
    expect(ran).toEqual(['a1', 'a1', 'a2', 'a3', 'b1']);
    expect(answer2).toEqual({ batchItemFailures: [] });
  });
});
