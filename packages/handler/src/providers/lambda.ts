/**
 * AWS Lambda: `(event, context)`.
 *
 * Events: API Gateway REST (v1) and HTTP API (v2), Function URLs, ALB, VPC Lattice (their
 * request and answer shapes: lambda-http.ts), SQS batches (partial batch responses), Kinesis, DynamoDB
 * Streams, Kafka, DocumentDB change streams, EventBridge rules and Scheduler, other EventBridge
 * events, and direct invocation (which is which: lambda-events.ts). The clock is
 * `context.getRemainingTimeInMillis()`. Events read into invocations: lambda-invocations.ts;
 * batches and their answers: lambda-batch.ts.
 */
import { MalformedEventError, toPublicError, type SteadyError } from '../errors.js';
import type { Rec } from '../internal/record.js';
import { adapterLogger, reportsFailure, runHttpInvocation, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import { takeColdStart } from '../context.js';
import { renderError } from '../response.js';
import type { AuthorizerTrigger, Outcome } from '../types.js';
import { authorizerItem, renderAuthorizerAnswer, unauthorizedError } from '../events/authorizer.js';
import { documentDbItems } from '../events/documentdb.js';
import { dynamoDbStreamItems } from '../events/dynamodb.js';
import { lambdaKafkaItems } from '../events/kafka.js';
import { kinesisItems } from '../events/kinesis.js';
import { s3EventBridgeChange, s3Items, s3NotificationChanges } from '../events/s3.js';
import { snsItems } from '../events/sns.js';
import { formatHttp, httpInvocation } from './lambda-http.js';
import { classifyLambdaEvent, pipesEvent, type LambdaEventKind } from './lambda-events.js';
import { withApiGatewayDeadline } from './lambda-deadline.js';
import { checkContext, directInvocation, eventBridgeInvocation, fail, frameFor, withRequestId } from './lambda-invocations.js';
import { kafkaIdentifier, kafkaParts, readBatch, runSqsBatch, runStreamBatch, runThrowingBatch } from './lambda-batch.js';

/** The part of the Lambda context object the wrapper reads. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  getRemainingTimeInMillis(): number;
  [key: string]: unknown;
}

/** The partial batch answer for SQS (message ids), Kinesis and DynamoDB Streams (sequence numbers). */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/**
 * The partial batch answer for Amazon MSK and self-managed Kafka (with the
 * `kafkaBatchItemFailures` option): each failed record named by `partition`, its
 * `<topic>-<partition>` (the key of `records` in the event, e.g. `'payments-0'`), and its
 * offset — the identifier AWS documents for Kafka partial batch failures (and Powertools'
 * `KafkaItemIdentifier`); Lambda fails the whole batch on any other key.
 */
export interface KafkaBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: { partition: string; offset: number } }>;
}

async function runAuthorizer(def: Definition, frame: Frame, event: Rec, context: LambdaContext): Promise<unknown> {
  const item = readBatch(() => authorizerItem(event));
  const outcome = await runInvocation(def, frame, withRequestId(item, context));
  // API Gateway answers 401 only for the error message `Unauthorized`; any other error is a 500.
  if (!outcome.ok) throw outcome.error.status < 500 ? unauthorizedError() : toPublicError(outcome.error);
  try {
    return renderAuthorizerAnswer(outcome.value, item.trigger as AuthorizerTrigger);
  } catch (thrown) {
    adapterLogger(def, frame, context.awsRequestId).error('authorizer result cannot be sent', { code: 'AUTHORIZER_RESULT_INVALID' });
    return fail(thrown as SteadyError);
  }
}

/** A direct invocation's answer: the function's value, or its error thrown as the public view. */
function directAnswer(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value;
  return fail(outcome.error);
}

/**
 * Runs one Lambda call. Not an async function: a direct invocation (the warm hot path) is one
 * `then` on the core's promise, not a suspended frame of the whole dispatch below; anything
 * thrown before the core runs is still a rejection.
 */
export function invokeLambda(def: Definition, event: unknown, context: LambdaContext): Promise<unknown> {
  // The call's cold start, taken once as it starts: its invocations and the adapter's lines share it.
  const coldStart = takeColdStart();
  try {
    checkContext(context);
    const frame = frameFor(event, context);
    frame.coldStart = coldStart;
    const read = pipesEvent(event);
    const kind = classifyLambdaEvent(read);
    withApiGatewayDeadline(def, kind, frame, read);
    if (kind === 'direct') return runInvocation(def, frame, directInvocation(def, frame, event, context)).then(directAnswer);
    return invokeLambdaEvent(def, frame, kind, read, context, read !== event);
  } catch (thrown) {
    return Promise.reject(thrown as Error);
  }
}

/** Every event kind but `direct`. `pipes`: `event` was read from an EventBridge Pipes array (see pipesEvent). */
async function invokeLambdaEvent(def: Definition, frame: Frame, kind: Exclude<LambdaEventKind, 'direct'>, event: unknown, context: LambdaContext, pipes: boolean): Promise<unknown> {
  switch (kind) {
    case 'authorizer':
      return runAuthorizer(def, frame, event as Rec, context);
    case 'apigw-v1':
    case 'apigw-v2':
    case 'function-url':
    case 'alb':
    case 'apigw-websocket':
    case 'vpc-lattice': {
      const e = event as Rec;
      let invocation: Invocation;
      try {
        invocation = httpInvocation(def, kind, e, context);
      } catch (thrown) {
        const error = thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the HTTP event');
        return formatHttp(kind, e, renderError(error));
      }
      return formatHttp(kind, e, await runHttpInvocation(def, frame, invocation));
    }
    case 'sqs':
      return runSqsBatch(def, frame, event as Rec, context);
    case 'dynamodb-streams':
    case 'kinesis': {
      const records = (event as Rec).Records as unknown[];
      const batch = readBatch(() => (kind === 'kinesis' ? kinesisItems(records, def) : dynamoDbStreamItems(records)), {
        def, frame, context, empty: { items: [], sequences: [], eventIds: [] }, parts: records,
        read: (record: unknown) => (kind === 'kinesis' ? kinesisItems([record], def) : dynamoDbStreamItems([record])),
      });
      // An event source mapping reads the failed record's sequence number; a Pipe its `eventID`
      // (EventBridge User Guide, "Pipes batching and concurrency", Partial batch failure).
      const identifiers = pipes ? batch.eventIds.map((id, i) => id || batch.sequences[i]!) : batch.sequences;
      return runStreamBatch(def, frame, batch.items.map((item) => withRequestId(item, context)), identifiers);
    }
    case 'sns':
      return runThrowingBatch(def, frame, readBatch(() => snsItems((event as Rec).Records as unknown[], def), { def, frame, context, empty: [], parts: (event as Rec).Records, read: (record: unknown) => snsItems([record], def) }), context, false);
    case 's3':
      return runThrowingBatch(def, frame, readBatch(() => s3Items(s3NotificationChanges((event as Rec).Records as unknown[]), undefined), { def, frame, context, empty: [], parts: (event as Rec).Records, read: (record: unknown) => s3Items(s3NotificationChanges([record]), undefined) }), context, false);
    case 's3-eventbridge':
      return runThrowingBatch(def, frame, readBatch(() => s3Items([s3EventBridgeChange(event as Rec)], 'eventbridge'), { def, frame, context, empty: [], parts: undefined, read: () => undefined }), context, false);
    case 'kafka': {
      // Partition order holds: records run in order and stop at the first failure. Thrown (Lambda
      // retries the whole batch), or named per partition when the mapping reports item failures.
      // EventBridge Pipes reads no partial answer for a Kafka source (only SQS, Kinesis and
      // DynamoDB) and retries the entire batch on an error: it would take one for a success.
      const items = readBatch(() => lambdaKafkaItems(event as Rec, def), { def, frame, context, empty: [], parts: kafkaParts(event as Rec), read: (part: Rec) => lambdaKafkaItems(part, def) });
      if (pipes || !def.kafkaBatchItemFailures) return runThrowingBatch(def, frame, items, context, true);
      const invocations = items.map((item) => withRequestId(item, context));
      return runStreamBatch(def, frame, invocations, invocations.map(kafkaIdentifier)) satisfies Promise<KafkaBatchResponse>;
    }
    case 'documentdb':
      // Change stream order holds: events run in order and stop at the first failure, which is
      // thrown — Lambda reads no partial batch answer for a DocumentDB event source mapping.
      return runThrowingBatch(def, frame, readBatch(() => documentDbItems(event as Rec), { def, frame, context, empty: [], parts: Array.isArray((event as Rec).events) ? ((event as Rec).events as unknown[]).map((change) => ({ ...(event as Rec), events: [change] })) : undefined, read: (part: Rec) => documentDbItems(part) }), context, true);
    case 'schedule':
    case 'eventbridge': {
      const outcome = await runInvocation(def, frame, eventBridgeInvocation(kind, event as Rec, context));
      if (outcome.ok || !reportsFailure(def, outcome)) return outcome.ok ? outcome.value : undefined;
      return fail(outcome.error);
    }
  }
}
