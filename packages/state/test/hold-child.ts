/**
 * Child process of `review-state-deadline-holds-process.test.ts`: a `custom` source whose load
 * never settles and holds no socket or timer. argv[2]: `get` (a `get()` with a deadline 1 s
 * away), `limit` (a `get()` without a deadline, bounded by `timeoutMs` alone), `sqs` (an SQS
 * batch through `handler({ use: [state(app)] })` with 1.5 s left). The call must be answered
 * before the event loop drains: `beforeExit` first means the process would have ended with it
 * unanswered (and on Lambda, the runtime would have answered for it).
 */
import { handler } from '@steadyfn/handler';
import { z } from 'zod';
import { custom, defineState, state } from '../src/index.js';

const scenario = process.argv[2];
const app = defineState({ sources: { c: custom({ load: () => new Promise(() => undefined) }) }, schema: z.object({ c: z.any() }), timeoutMs: 800 });

let answered = false;
process.on('beforeExit', () => {
  if (answered) return;
  process.stdout.write('beforeExit with the call pending\n');
  process.exit(0);
});

const record = (id: string) => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body: '{"orderId":"o-1"}',
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1741945024000', SenderId: 'AROAEXAMPLE', ApproximateFirstReceiveTimestamp: '1741945024112' },
  messageAttributes: {},
  md5OfBody: '00000000000000000000000000000000',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
  awsRegion: 'eu-west-1',
});

function call(): Promise<unknown> {
  if (scenario === 'get') return app.get({ deadline: Date.now() + 1_000 });
  if (scenario === 'limit') return app.get();
  const main = handler({ use: [state(app)], deadlineMarginMs: 100, logSink: () => undefined }, async () => 'done');
  const lambdaContext = { awsRequestId: 'r', functionName: 'hold-child', getRemainingTimeInMillis: () => 1_500 };
  return main.aws({ Records: [record('m-1'), record('m-2')] }, lambdaContext);
}

const line = await call().then(
  (value) => `resolved ${JSON.stringify(value)}`,
  (error: { code?: string }) => `rejected ${error.code}`,
);
answered = true;
process.stdout.write(`${line}\n`);
