/**
 * Whole-call errors provoked on the real servers with raw `SendMessageBatch` calls (the sender
 * itself never makes them: its entry Ids are unique and valid, its batches ≤ 10), and what the
 * sender's classification makes of each. Plus option and input validation.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, deleteQueue, sqsClient, sqsServers } from '../../test/sqs-servers.js';
import { classifyCallError, normaliseCode } from './classify.js';
import { sqsSender } from './sender.js';

describe.each(sqsServers({ elasticmq: true }))('whole-call errors from $name', ({ name, endpoint }) => {
  const client = sqsClient(endpoint);
  let queueUrl: string;
  beforeAll(async () => {
    queueUrl = await createQueue(client, `classify-${name}`, { maxBytes: 1_048_576 });
  });
  afterAll(async () => {
    await deleteQueue(client, queueUrl);
    client.destroy();
  });
  const refusal = async (entries: Array<{ Id: string; MessageBody: string }>) => {
    try {
      await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to be refused');
  };

  it('a duplicate entry Id, an invalid entry Id and 11 entries are refused as a whole and never retried', async () => {
    expect(classifyCallError(await refusal([{ Id: 'a', MessageBody: '1' }, { Id: 'a', MessageBody: '2' }]))).toEqual({ kind: 'fail', code: 'BatchEntryIdsNotDistinct', retryable: false });
    if (name === 'elasticmq') {
      // Deviation: ElasticMQ does not check the characters of an entry Id: `a.b` is taken.
      expect((await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'a.b', MessageBody: '1' }] }))).Successful).toHaveLength(1);
    } else {
      expect(classifyCallError(await refusal([{ Id: 'a.b', MessageBody: '1' }]))).toEqual({ kind: 'fail', code: 'InvalidBatchEntryId', retryable: false });
    }
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' }));
    expect(classifyCallError(await refusal(eleven))).toEqual({ kind: 'fail', code: 'TooManyEntriesInBatchRequest', retryable: false });
  });

  it('a batch over 1 MiB is BatchRequestTooLong: split', async () => {
    const half = 'x'.repeat(524_289);
    const verdict = classifyCallError(await refusal([{ Id: 'a', MessageBody: half }, { Id: 'b', MessageBody: half }]));
    // Deviation: ElasticMQ answers InvalidAttributeValue ("MessageTooLong"), sent as
    // `com.amazonaws.sqs#InvalidAttributeValue`: bisected like a batch with one bad entry, which
    // also ends in halves that fit (sender.test.ts).
    if (name === 'elasticmq') expect(verdict).toEqual({ kind: 'bisect', code: 'InvalidAttributeValue' });
    else expect(verdict).toEqual({ kind: 'split', code: 'BatchRequestTooLong' });
  });

  it('an 81-character entry Id', async () => {
    const call = client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'i'.repeat(81), MessageBody: 'x' }] }));
    if (name === 'moto') await expect(call).rejects.toMatchObject({ name: 'InvalidBatchEntryId' });
    // Deviation: fauxqs checks the characters of an entry Id but not its 80-character limit;
    // ElasticMQ checks neither.
    else expect((await call).Successful).toHaveLength(1);
  });
});

describe('SQS error codes', () => {
  it('normalises every form a code arrives in, so the verdict does not depend on the server or protocol', () => {
    for (const raw of ['InvalidAttributeValue', 'AWS.SimpleQueueService.InvalidAttributeValue', 'com.amazonaws.sqs#InvalidAttributeValue', 'InvalidAttributeValue:http://internal.amazon.com/coral/com.amazonaws.sqs/', 'InvalidAttributeValueException']) {
      expect(normaliseCode(raw), raw).toBe('InvalidAttributeValue');
    }
    // ElasticMQ's whole-call refusal, as the SDK hands it over (Code from its x-amzn-query-error header).
    const elasticmq = Object.assign(new Error('MessageTooLong'), { name: 'InvalidAttributeValue', Code: 'com.amazonaws.sqs#InvalidAttributeValue', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(classifyCallError(elasticmq)).toEqual({ kind: 'bisect', code: 'InvalidAttributeValue' });
  });
});

describe('sqsSender options and input', () => {
  const client = sqsClient('http://127.0.0.1:1');
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';
  it.each([
    [{ client: {} }, 'client'],
    [{ client, queueUrl: 'q' }, 'queueUrl'],
    [{ client, queueUrl, maxMessageBytes: 1_048_577 }, 'maxMessageBytes'],
    [{ client, queueUrl, maxBatchBytes: 10 }, 'maxBatchBytes'],
    [{ client, queueUrl, invalidCharacters: 'strip' }, 'invalidCharacters'],
    [{ client, queueUrl, claimCheck: { s3: {}, bucket: 'b' } }, 'claimCheck'],
    [{ client, queueUrl, retry: { retries: -1 } }, 'retry.retries'],
    [{ client, queueUrl, concurrency: 0 }, 'concurrency'],
  ])('refuses %o up front, naming %s', (options, field) => {
    expect(() => sqsSender(options as never)).toThrow(expect.objectContaining({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field, retryable: false }));
  });

  it('reads the queue kind from the URL; a fifo given must agree with it (test/review-sqs-sender-fifo.test.ts)', () => {
    expect(sqsSender({ client, queueUrl: `${queueUrl}.fifo`, maxMessageBytes: 1024 }).fifo).toBe(true);
    expect(sqsSender({ client, queueUrl: `${queueUrl}.fifo`, maxMessageBytes: 1024, fifo: true }).fifo).toBe(true);
  });

  it('throws a typed input error before sending when messages are not { id, body }', async () => {
    const sender = sqsSender({ client, queueUrl, maxMessageBytes: 1024 });
    await expect(sender.send([{ id: 'a' } as never])).rejects.toMatchObject({ code: 'OUTBOX_SQS_INVALID_INPUT' });
    await expect(sender.send('x' as never)).rejects.toMatchObject({ code: 'OUTBOX_SQS_INVALID_INPUT' });
  });

  it('fails messages SQS would refuse without calling it, and a FIFO message without a group or with a delay', async () => {
    const fifo = sqsSender({ client, queueUrl: `${queueUrl}.fifo`, maxMessageBytes: 1024 });
    const report = await fifo.send([
      { id: 'has space', groupKey: 'g', body: 'x' },
      { id: 'nogroup', body: 'x' },
      { id: 'delayed', groupKey: 'g', body: 'x', delayMs: 1000 },
      { id: 'attr', groupKey: 'g', body: 'x', attributes: { 'AWS.trace': 'v' } },
      { id: 'dup', groupKey: 'h', body: 'x', attributes: { a: '' } },
      { id: 'dup', groupKey: 'h', body: 'x' },
    ]);
    expect(report.batches).toBe(0);
    expect(report.sent).toEqual([]);
    expect(report.failed.map((f) => [f.id, f.code])).toEqual([
      ['has space', 'OUTBOX_SQS_INVALID_MESSAGE'],
      ['nogroup', 'OUTBOX_SQS_INVALID_MESSAGE'],
      ['delayed', 'OUTBOX_SQS_INVALID_MESSAGE'],
      ['attr', 'OUTBOX_SQS_INVALID_MESSAGE'],
      ['dup', 'OUTBOX_SQS_INVALID_MESSAGE'],
      ['dup', 'OUTBOX_SQS_DUPLICATE_ID'],
    ]);
  });

  it("reports the queue's attributes as unreadable with a typed, retryable error when SQS is unreachable", async () => {
    await expect(sqsSender({ client, queueUrl }).send([{ id: 'a', body: 'b' }])).rejects.toMatchObject({ code: 'OUTBOX_SQS_QUEUE_ATTRIBUTES', retryable: true });
  });
});
