// examples/aws-lambda as Lambda calls it: each export of index.mjs with the event and context
// Lambda passes — an HTTP API (payload 2.0) request, SQS batches as the event source mapping
// hands them over (deleting only what the function did not report in batchItemFailures), and
// EventBridge scheduled events.
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';

export const runtime = 'AWS Lambda: HTTP API event, SQS event source mapping, EventBridge schedules';

const context = (name) => {
  const deadline = Date.now() + 60_000;
  return { awsRequestId: randomUUID(), functionName: name, functionVersion: '$LATEST', memoryLimitInMB: '512', getRemainingTimeInMillis: () => deadline - Date.now() };
};

export async function open(stores) {
  const fns = await import('../../aws-lambda/index.mjs');
  return {
    async create(input, headers) {
      const event = {
        version: '2.0',
        routeKey: 'POST /orders',
        rawPath: '/orders',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', ...headers },
        requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '127.0.0.1' }, requestId: randomUUID(), domainName: 'demo.execute-api.us-east-1.amazonaws.com' },
        body: JSON.stringify(input),
        isBase64Encoded: false,
      };
      const res = await fns.createOrder(event, context('createOrder'));
      const lower = Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return { status: res.statusCode, headers: lower, body: JSON.parse(res.body) };
    },
    async consume() {
      let deliveries = 0;
      for (let idle = 0; idle < 3; ) {
        const { Messages = [] } = await stores.sqs.send(new ReceiveMessageCommand({ QueueUrl: stores.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
        if (Messages.length === 0) {
          idle++;
          continue;
        }
        idle = 0;
        const Records = Messages.map((m) => ({
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle,
          body: m.Body,
          attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1', SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()), SenderId: 'demo', ApproximateFirstReceiveTimestamp: String(Date.now()) },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody,
          eventSource: 'aws:sqs',
          eventSourceARN: stores.queueArn,
          awsRegion: process.env.AWS_REGION ?? 'us-east-1',
        }));
        const answer = await fns.orderEvents({ Records }, context('orderEvents'));
        const failed = new Set((answer?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        for (const m of Messages) {
          if (failed.has(m.MessageId)) continue; // comes back after its visibility timeout
          deliveries++;
          await stores.sqs.send(new DeleteMessageCommand({ QueueUrl: stores.queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
      }
      return deliveries;
    },
    async tick(name) {
      const event = { version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: new Date().toISOString(), region: 'us-east-1', resources: [`arn:aws:events:us-east-1:123456789012:rule/${name}`], detail: {} };
      await fns[name](event, context(name));
    },
    async close() {},
  };
}
