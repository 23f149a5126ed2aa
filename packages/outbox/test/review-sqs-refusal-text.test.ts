/**
 * Known defect: `sqsSender` told a size refusal by SQS's code alone (`InvalidParameterValue`,
 * `BatchRequestTooLong`) and dropped SQS's text, so *any* `InvalidParameterValue` of a message
 * above 1 KiB — refused for a parameter's value, not its size — was taken for a stale
 * `MaximumMessageSize`: the limit was read again, found unchanged, and the message acquitted as
 * "a change not yet propagated" (`senderFault: false`, retryable): the relay sent it again up
 * to `relay.poison.maxAttempts` (10) times instead of quarantining it at once. Now SQS's text
 * decides what the refusal was for (kept as a verdict only: it may quote the message's values,
 * so it reaches no report or log); without a text the code alone still decides.
 *
 * moto only: the client rewrites the entry SQS should refuse (`DelaySeconds` 901, which the
 * sender itself never sends; an attribute of an unknown `DataType`), and moto refuses the first
 * per entry ("Value 901 for parameter DelaySeconds is invalid…") and the second for the whole
 * call, which the sender bisects down to the entry. fauxqs deviates: it takes both (checked by
 * hand against the fauxqs of test/services: it validates neither), so it cannot give such a refusal; its size refusal
 * (per entry, "Message must be shorter than … bytes") is covered by
 * review-sqs-max-size-stale.test.ts on both servers.
 */
import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsSender } from '../src/sqs.js';
import { createQueue, deleteQueue, sqsClient, sqsServers } from './sqs-servers.js';

const moto = sqsServers().find((s) => s.name === 'moto')!;
const body = (bytes: number, tag: string): string => `${tag}:${'x'.repeat(bytes - tag.length - 1)}`;

describe('an InvalidParameterValue of a message above 1 KiB for another reason than its size (moto)', () => {
  let sqs: SQSClient;
  let url = '';
  let reads = 0;
  /** What the client does to the entry of the message `bad` before it leaves. */
  let spoil: ((entry: SendMessageBatchRequestEntry) => void) | undefined;
  beforeAll(async () => {
    sqs = sqsClient(moto.endpoint, 3);
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand') reads++;
        const entries = (args.input as { Entries?: SendMessageBatchRequestEntry[] }).Entries;
        for (const entry of entries ?? []) if (entry.MessageBody?.startsWith('bad:')) spoil?.(entry);
        return next(args);
      },
      { step: 'initialize' },
    );
    url = await createQueue(sqs, 'obx-refusal-text', { maxBytes: 4_096 });
  });
  afterAll(async () => {
    await deleteQueue(sqs, url);
    sqs.destroy();
  });

  it.each([
    ['per entry (DelaySeconds 901)', (entry: SendMessageBatchRequestEntry) => void (entry.DelaySeconds = 901)],
    ['for the whole call, bisected to the entry (an unknown attribute DataType)', (entry: SendMessageBatchRequestEntry) => void (entry.MessageAttributes = { note: { DataType: 'Secretish', StringValue: 'value-9f3c' } })],
  ])('refused %s: a sender fault at once, the limit not read again, no SQS text in the report', async (_how, how) => {
    const sender = sqsSender({ client: sqs, queueUrl: url, retry: { retries: 0 } });
    reads = 0;
    spoil = how;
    const report = await sender.send([
      { id: 'bad', groupKey: 'a', body: body(2_000, 'bad') },
      { id: 'fine', groupKey: 'b', body: body(200, 'fine') },
    ]);
    expect(report.sent.map((s) => s.id)).toEqual(['fine']);
    expect(report.failed).toMatchObject([{ id: 'bad', code: 'InvalidParameterValue', senderFault: true, retryable: false, judged: true }]);
    expect(reads, 'the first read of the limit only: no re-read for a refusal that is not about size').toBe(1);
    const text = JSON.stringify(report.failed);
    for (const quoted of ['901', 'Secretish', 'value-9f3c', 'DelaySeconds']) expect(text).not.toContain(quoted);
  });
});
