/**
 * Azure/azure-functions-host#3157 ("Messages never move to poison queue incase of timeout
 * exceptions"; also Azure/azure-webjobs-sdk#1809)
 * https://github.com/Azure/azure-functions-host/issues/3157
 *
 * A storage-queue function that ran past `functionTimeout` was not failed like any other
 * invocation: the host timed it out by restarting the script host, the message's failure was
 * never counted, so it was not moved to the poison queue after `maxDequeueCount` attempts but
 * retried for ever — and every restart took the other functions of the app down with it.
 *
 * steadyfn ends an Azure invocation at its own deadline (`timeoutMs`, set to the app's
 * `functionTimeout`, less `deadlineMarginMs`): the function's `ctx.signal` aborts and the
 * invocation is thrown as `DEADLINE_EXCEEDED` (retryable) before the host's timeout, so the host
 * sees an ordinary failure — the message's dequeue count grows and it reaches the poison queue —
 * and the instance goes on serving. Replayed with `@azure/functions`' InvocationContext of a
 * storage-queue trigger: a function that ignores its signal and one that listens to it, on two
 * successive deliveries (dequeue count 1, then 2); each is thrown `DEADLINE_EXCEEDED`, the
 * listening one saw its signal abort, and the next message on the same instance runs.
 */
import { randomUUID } from 'node:crypto';
import { trigger } from '@azure/functions';
import { handler, type Context } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { invocationContext } from '../../packages/handler/test/support/azure.js';

const QUEUE = trigger.storageQueue({ queueName: 'thumbnails', connection: 'AzureWebJobsStorage' });

function delivery(id: string, dequeueCount: number) {
  return invocationContext(
    {
      invocationId: randomUUID(),
      functionName: 'makeThumbnail',
      triggerMetadata: { dequeueCount, expirationTime: '2025-03-09T17:10:00+00:00', id, insertionTime: '2025-03-02T17:10:00+00:00', nextVisibleTime: '2025-03-02T17:20:00+00:00', popReceipt: 'AgAAAAMAAAAAAAAAvZfe5a2L2wE=', queueTrigger: id },
    },
    QUEUE,
  );
}

describe('azure-functions-host#3157: a queue function that runs out of time fails like any other, before the host times it out', () => {
  it('a function that ignores its signal and one that listens: each delivery is thrown DEADLINE_EXCEEDED (retryable); the next message runs', async () => {
    const attempts: unknown[] = [];
    let aborted = 0;
    const main = handler({ logSink: () => undefined, timeoutMs: 1_200, deadlineMarginMs: 400 }, async (input, ctx: Context) => {
      attempts.push((ctx.trigger as { attempt?: unknown }).attempt);
      if (input === 'hang') return new Promise(() => undefined); // never settles, as the reported Thread.Sleep
      if (input === 'listen') {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted += 1;
        return new Promise(() => undefined); // still does not answer: the wrapper must
      }
      return `thumb of ${String(input)}`;
    });

    for (const [input, count] of [['hang', 1], ['hang', 2], ['listen', 1]] as const) {
      await expect(main(input, delivery(`m-${input}`, count))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
    }
    expect(attempts).toEqual([1, 2, 1]);
    expect(aborted).toBe(1);
    // The instance keeps serving: no restart, the next message runs and answers.
    await expect(main('photo-7', delivery('m-next', 1))).resolves.toBe('thumb of photo-7');
  });
});
