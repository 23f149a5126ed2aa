/**
 * Review s53 (rvs), through the real Lambda Node runtime (`aws-lambda-ric`, as lambda-ric.test.ts
 * runs it against the loopback Runtime API): a function awaiting a promise that holds no socket
 * or timer (an event never emitted), with little time left. With the deadline watch unref'd the
 * event loop drained before the deadline and the runtime answered for the invocation: aws-lambda-ric
 * 2.x/3.x (and the managed nodejs runtimes built on it) post a `null` response — success — from
 * their `beforeExit` listener (`Runtime._setDefaultExitListener`); the 4.x installed here has no
 * such listener and the process exits with the invocation unanswered (Lambda: Runtime.ExitError,
 * and a cold start). Either way not the function's answer. Now the watch holds the process until
 * the deadline answers: DEADLINE_EXCEEDED for a direct invoke, every message failed for an SQS batch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambda, type LambdaFunction } from '../../../../../test/support/examples/lambda.js';
import { installBuiltHandler } from '../../support/deployment.js';

const FUNCTION = `import { handler } from '@steadyfn/handler';
// Awaits what holds nothing open: an in-process lock nobody releases, an event never emitted.
export const main = handler({ deadlineMarginMs: 500 }, () => new Promise(() => {}));
`;

let taskRoot = '';
let fn: LambdaFunction | undefined;

beforeAll(async () => {
  taskRoot = mkdtempSync(join(tmpdir(), 'steadyfn-lambda-hold-'));
  await installBuiltHandler(taskRoot);
  writeFileSync(join(taskRoot, 'index.mjs'), FUNCTION);
  fn = await startLambda(taskRoot, 'index.main', { PATH: process.env.PATH ?? '', TZ: 'UTC', AWS_REGION: 'eu-west-1', STEADYFN_LOG_LEVEL: 'warn' });
}, 120_000);

afterAll(async () => {
  await fn?.stop();
  if (taskRoot) rmSync(taskRoot, { recursive: true, force: true });
});

const sqsRecord = (messageId: string) => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: '{"orderId":"o-1"}',
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1741945024000', SenderId: 'AROAEXAMPLE', ApproximateFirstReceiveTimestamp: '1741945024112' },
  messageAttributes: {},
  md5OfBody: '00000000000000000000000000000000',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
  awsRegion: 'eu-west-1',
});

describe('aws-lambda-ric running a function that awaits a promise holding nothing', () => {
  it('posts DEADLINE_EXCEEDED to /error for a direct invoke, not a null response and not an exit', async () => {
    const result = await fn!.invoke({ orderId: 'o-1' }, { deadlineMs: Date.now() + 2_500 });
    expect(result.outcome).toBe('error');
    expect(result.body).toMatchObject({ errorType: 'DEADLINE_EXCEEDED' });
  });

  it('answers an SQS batch with every message failed (redelivered), never an empty answer that deletes them', async () => {
    const result = await fn!.invoke({ Records: [sqsRecord('m-1'), sqsRecord('m-2')] }, { deadlineMs: Date.now() + 2_500 });
    expect(result.outcome).toBe('response');
    expect(result.body).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
  });
});
