/**
 * Under middy a Lambda event of one SQS message / one stream record is one invocation, keyed by
 * its message id / record id, and the handler answers Lambda's partial batch response itself.
 * When that answer reports its own message failed — `{ batchItemFailures: [{ itemIdentifier }] }`
 * (the AWS samples), or the `Promise.allSettled` array `@middy/sqs-partial-batch-failure` turns
 * into one — the record must be released, not completed: Lambda redelivers the message and the
 * redelivery must run the handler (before: it replayed the failure, the message went to the
 * DLQ unprocessed). On real Redis, real `@middy/core`.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency, pendingCompletion } from '../src/index.js';
import type { Plugin } from '@steadyfn/handler';
import { lambdaContext, sqsRecord, useBackend } from './support.js';

const backend = useBackend('redis');

/** `@middy/sqs-partial-batch-failure` as published (its logger left out). */
const sqsPartialBatchFailure = () => {
  const after = (request: any) => {
    const {
      event: { Records },
      response,
    } = request;
    const batchItemFailures: Array<{ itemIdentifier: string }> = [];
    for (const [idx, record] of Records.entries()) {
      if ((response[idx] ?? {}).status !== 'fulfilled') batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    request.response = { batchItemFailures };
  };
  return {
    after,
    onError: async (request: any) => {
      if (request.response !== undefined) return;
      request.response = new Array(request.event.Records?.length ?? 0).fill({ status: 'rejected', reason: request.error });
      after(request);
    },
  };
};

/** One standard-queue record, a new receipt handle, `ApproximateReceiveCount` `n`. */
const sqsEvent = (messageId: string, n: number) => ({ Records: [sqsRecord(messageId, { order: 'o-1' }, { receiveCount: n })] });

/** The first record of a published stream batch, from a stream of its own (a fresh record id). */
function streamEvent(path: string, arn: string): { Records: Array<Record<string, any>> } {
  const batch = JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/aws/${path}`, import.meta.url), 'utf8')) as { Records: Array<Record<string, any>> };
  return { Records: [{ ...batch.Records[0]!, eventSourceARN: arn }] };
}

const store = () => idempotency({ store: backend.store, ttlMs: 60_000, localCache: false });

describe('under middy, a one-message event whose handler reports its own message failed', () => {
  it('@middy/sqs-partial-batch-failure: the message runs again on its redelivery', async () => {
    let calls = 0;
    const processRecord = async () => {
      if (++calls === 1) throw new Error('downstream down');
    };
    const main = middy()
      .use(sqsPartialBatchFailure())
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 60_000 })))
      .handler(steadyHandler(async (event: any) => Promise.allSettled(event.Records.map(processRecord))));
    const id = randomUUID();
    const first = await main(sqsEvent(id, 1) as never, lambdaContext() as never);
    const second = await main(sqsEvent(id, 2) as never, lambdaContext() as never);
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: id }] });
    expect(calls).toBe(2);
    expect(second).toEqual({ batchItemFailures: [] });
  });

  it('a hand-written { batchItemFailures } naming the message: its redelivery runs the handler', async () => {
    let calls = 0;
    const main = middy()
      .use(toMiddy(store()))
      .handler(steadyHandler(async (event: any) => ({ batchItemFailures: ++calls === 1 ? [{ itemIdentifier: event.Records[0].messageId }] : [] })));
    const id = randomUUID();
    expect(await main(sqsEvent(id, 1) as never, lambdaContext() as never)).toEqual({ batchItemFailures: [{ itemIdentifier: id }] });
    expect(await main(sqsEvent(id, 2) as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
  });

  it('a plain middy handler (no steadyHandler) reporting its message failed: released too', async () => {
    let calls = 0;
    const main = middy()
      .use(toMiddy(store()))
      .handler(async (event: any) => ({ batchItemFailures: ++calls === 1 ? [{ itemIdentifier: event.Records[0].messageId }] : [] }));
    const id = randomUUID();
    await main(sqsEvent(id, 1) as never, lambdaContext() as never);
    expect(await main(sqsEvent(id, 2) as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
  });

  it.each([
    ['Kinesis', 'kinesis-batch.json', 'arn:aws:kinesis:eu-west-1:123456789012:stream/', (r: any) => r.kinesis.sequenceNumber],
    ['DynamoDB Streams', 'dynamodb-streams-batch.json', 'arn:aws:dynamodb:eu-west-1:123456789012:table/T/stream/', (r: any) => r.dynamodb.SequenceNumber],
  ] as const)('%s: a record whose handler names it in batchItemFailures is retried and runs again', async (_name, fixture, arnPrefix, identifier) => {
    let calls = 0;
    const main = middy()
      .use(toMiddy(store()))
      .handler(steadyHandler(async (event: any) => ({ batchItemFailures: ++calls === 1 ? [{ itemIdentifier: identifier(event.Records[0]) }] : [] })));
    const event = streamEvent(fixture, `${arnPrefix}${randomUUID()}`);
    const failed = await main(event as never, lambdaContext() as never);
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: identifier(event.Records[0]) }] });
    expect(await main(event as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
  });
});

describe('the mirror: a handler that reports no failure is stored and replayed', () => {
  it('{ batchItemFailures: [] }: the redelivery replays it without running the handler', async () => {
    let calls = 0;
    const main = middy()
      .use(toMiddy(store()))
      .handler(steadyHandler(async () => {
        calls++;
        return { batchItemFailures: [] };
      }));
    const id = randomUUID();
    expect(await main(sqsEvent(id, 1) as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    expect(await main(sqsEvent(id, 2) as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(1);
  });

  it('@middy/sqs-partial-batch-failure, the record fulfilled: the redelivery does not run it again', async () => {
    let calls = 0;
    const main = middy()
      .use(sqsPartialBatchFailure())
      .use(toMiddy(store()))
      .handler(steadyHandler(async (event: any) => Promise.allSettled(event.Records.map(async () => void calls++))));
    const id = randomUUID();
    expect(await main(sqsEvent(id, 1) as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    await main(sqsEvent(id, 2) as never, lambdaContext() as never);
    expect(calls).toBe(1);
  });
});

describe('a joined write (pendingCompletion) is offered no completion for such a failure', () => {
  it('the failure: none offered, the record released; no failure: offered', async () => {
    const offered: boolean[] = [];
    // A writer listed after idempotency, as the outbox is: it asks for the completion in its `after`.
    const writer: Plugin = {
      name: 'writer',
      after(ctx, result) {
        const completion = pendingCompletion(ctx, result);
        offered.push(completion !== undefined);
        completion?.notJoined();
      },
    };
    let calls = 0;
    const main = middy()
      .use(toMiddy(store()))
      .use(toMiddy(writer))
      .handler(steadyHandler(async (event: any) => ({ batchItemFailures: ++calls === 1 ? [{ itemIdentifier: event.Records[0].messageId }] : [] })));
    const id = randomUUID();
    await main(sqsEvent(id, 1) as never, lambdaContext() as never);
    await main(sqsEvent(id, 2) as never, lambdaContext() as never);
    expect(offered).toEqual([false, true]);
    expect(calls).toBe(2);
  });
});
