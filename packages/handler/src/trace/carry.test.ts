/**
 * The trace context carried from one function to the next through a real SQS queue (moto):
 * the producer puts `traceAttributes(ctx)` on its message, the consumer — the same message as
 * Lambda hands it over — continues the trace in its `ctx.traceparent`.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../../test/services/env.js';
import { handler, type Context } from '../index.js';
import { traceAttributes, traceHeaders } from '../tracing.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const lambdaContext = () => ({ awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => 30_000 });

let sqs: SQSClient;
let queueUrl: string;
beforeAll(async () => {
  await requireService('sqs');
  sqs = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1' });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `trace-${randomUUID().slice(0, 8)}` }))).QueueUrl!;
});
afterAll(async () => {
  if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs?.destroy();
});

/** A received message as Lambda's SQS event source mapping hands it to the function. */
function asLambdaRecord(message: Message): Record<string, unknown> {
  const messageAttributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = { stringValue: value.StringValue, stringListValues: [], binaryListValues: [], dataType: value.DataType };
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:trace',
    awsRegion: 'us-east-1',
  };
}

describe('trace context through SQS', () => {
  it('the consumer continues the producer’s trace, tracestate included', async () => {
    let sent = '';
    const producer = handler({}, async (_input, ctx: Context) => {
      sent = ctx.traceparent;
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"orderId":"o-1"}', MessageAttributes: { origin: { DataType: 'String', StringValue: 'checkout' }, ...traceAttributes(ctx) } }));
      return { queued: true };
    });
    await producer.aws(
      { version: '2.0', rawPath: '/orders', rawQueryString: '', headers: { traceparent: TP, tracestate: 'rojo=1' }, requestContext: { http: { method: 'POST', path: '/orders' } }, body: '{}', isBase64Encoded: false },
      lambdaContext(),
    );
    expect(sent).toBe(TP);

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(received.Messages).toHaveLength(1);
    let consumed: { traceparent: string; tracestate: string | undefined } | undefined;
    const consumer = handler({}, (_input, ctx: Context) => void (consumed = { traceparent: ctx.traceparent, tracestate: ctx.tracestate }));
    await consumer.aws({ Records: received.Messages!.map(asLambdaRecord) }, lambdaContext());
    expect(consumed).toEqual({ traceparent: TP, tracestate: 'rojo=1' });
  });
});

describe('traceAttributes / traceHeaders', () => {
  it('give nothing for a carrier without a valid traceparent, and drop an invalid tracestate', () => {
    expect(traceAttributes({})).toEqual({});
    expect(traceAttributes({ traceparent: 'junk' })).toEqual({});
    expect(traceHeaders({ traceparent: TP, tracestate: 'Bad Key=1' })).toEqual({ traceparent: TP });
    expect(traceAttributes({ traceparent: TP, tracestate: 'a=1' })).toEqual({
      traceparent: { DataType: 'String', StringValue: TP },
      tracestate: { DataType: 'String', StringValue: 'a=1' },
    });
  });
});
