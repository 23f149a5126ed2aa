/**
 * AWS Lambda on loopback: the real runtime interface client (`aws-lambda-ric`, what AWS's Node
 * base images run) loads a function from a task root as Lambda does (`_HANDLER`), served by the
 * Runtime API of packages/handler/test/runtimes/lambda. And the SQS event source mapping's part:
 * receive a batch, invoke with it, delete what the function did not report in `batchItemFailures`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { RuntimeApi, type InvocationResult } from '../../../packages/handler/test/runtimes/lambda/runtime-api.js';
import { installedDir } from '../consumer.js';

export interface LambdaFunction {
  invoke(event: unknown, options?: { deadlineMs?: number }): Promise<InvocationResult>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the runtime client for `handler` (`index.createOrder`) in `taskRoot`. */
export async function startLambda(taskRoot: string, handler: string, env: NodeJS.ProcessEnv): Promise<LambdaFunction> {
  const ricDir = installedDir('aws-lambda-ric');
  if (!existsSync(join(ricDir, 'rapid-client.node'))) throw new Error('aws-lambda-ric was installed without its native client: install cmake, g++ and make, then pnpm install');
  const api = new RuntimeApi();
  const address = await api.listen();
  const name = handler.split('.').pop()!;
  const child = spawn(process.execPath, [join(ricDir, 'index.mjs')], {
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      AWS_LAMBDA_RUNTIME_API: address,
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0f3c2a719d4e4b8aa1c65e7d9b2f4c10',
    },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.on('exit', (code) => api.abandon(`the runtime exited (${code}): ${output.slice(-3000)}`));
  return {
    invoke: (event, options = {}) => api.invoke(event, { waitMs: 60_000, ...options }),
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await api.close();
    },
  };
}

/** An SQS message as the event source mapping hands it to the function (the documented record shape). */
export function sqsRecordOf(message: Message, queueArn: string): Record<string, unknown> {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, { stringValue: v.StringValue, binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined, stringListValues: [], binaryListValues: [], dataType: v.DataType }]),
    ),
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
  };
}

/** Receives one batch (up to 10) from the queue; empty when nothing arrived within `waitSeconds`. */
export async function receive(sqs: SQSClient, queueUrl: string, waitSeconds = 1): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
  );
  return Messages;
}

/** Deletes the given messages (what the mapping does with the ones that succeeded). */
export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  if (messages.length === 0) return;
  await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
}

/**
 * The event source mapping for one function: batches from the queue until `done()` holds and
 * the queue has nothing more to give (a failed message comes back after its visibility
 * timeout); each batch is one invocation, and only the messages the function did not list in
 * `batchItemFailures` are deleted. Returns every body handed over.
 */
export async function mapQueue(sqs: SQSClient, queueUrl: string, queueArn: string, fn: (event: unknown) => Promise<{ batchItemFailures?: Array<{ itemIdentifier: string }> }>, done: (bodies: string[]) => boolean | Promise<boolean>, maxRounds = 40): Promise<string[]> {
  const bodies: string[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const messages = await receive(sqs, queueUrl, 3);
    if (messages.length === 0) {
      if (await done(bodies)) break;
      continue;
    }
    const answer = await fn({ Records: messages.map((m) => sqsRecordOf(m, queueArn)) });
    const failed = new Set((answer.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    bodies.push(...messages.map((m) => m.Body!));
    await deleteMessages(sqs, queueUrl, messages.filter((m) => !failed.has(m.MessageId!)));
  }
  return bodies;
}

