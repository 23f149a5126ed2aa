/**
 * AWS Lambda: `(event, context)`.
 *
 * Events: API Gateway REST (v1) and HTTP API (v2), Function URLs, ALB, VPC Lattice (their
 * request and answer shapes: lambda-http.ts), SQS batches (partial batch responses), Kinesis, DynamoDB
 * Streams, Kafka, DocumentDB change streams, EventBridge rules and Scheduler, other EventBridge
 * events, and direct invocation (which is which: lambda-events.ts). The clock is
 * `context.getRemainingTimeInMillis()`.
 */
import { MalformedEventError, toPublicError, type SteadyError } from '../errors.js';
import { isRecord as isRec, jsonText, nonEmptyStr, str, type Rec } from '../internal/record.js';
import { acknowledgedFailure } from '../batch.js';
import { adapterLogger, reportsFailure, runBatch, runHttpInvocation, runInvocation, type Definition, type Frame, type Invocation, type ResultAnswer } from '../invoke.js';
import { checkJsonSize, renderError } from '../response.js';
import { LAMBDA_RESPONSE_LIMIT_BYTES } from '../internal/limits.js';
import type { AuthorizerTrigger, Outcome, StreamTrigger } from '../types.js';
import { anyPayload } from '../message.js';
import { lambdaPrincipal } from '../principal-aws.js';
import { authorizerItem, renderAuthorizerAnswer, unauthorizedError } from '../events/authorizer.js';
import { documentDbItems } from '../events/documentdb.js';
import { eventBridgeDeliveryId, replayNameOf } from '../events/eventbridge-envelope.js';
import { dynamoDbStreamItems } from '../events/dynamodb.js';
import type { EventItem } from '../events/item.js';
import { lambdaKafkaItems } from '../events/kafka.js';
import { kinesisItems } from '../events/kinesis.js';
import { s3ChangesInBody, s3EventBridgeChange, s3Items, s3NotificationChanges } from '../events/s3.js';
import { snsItems } from '../events/sns.js';
import { sqsMessageItem } from '../events/sqs.js';
import { formatHttp, httpInvocation } from './lambda-http.js';
import { classifyLambdaEvent, pipesEvent, unrecognisedShape, type LambdaEventKind } from './lambda-events.js';
import { withApiGatewayDeadline } from './lambda-deadline.js';

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

/**
 * A direct invocation's result: the Runtime API refuses a response over 6 MB (413), whatever
 * invoked the function; JSON.stringify is how the Node runtime serialises it. Checked only when
 * plugins run, so that none (idempotency) keeps as completed a result the caller never gets. A result JSON
 * cannot encode (a BigInt) is left to fail in the runtime as before.
 */
const DIRECT_RESULT: ResultAnswer = {
  tooLarge(value) {
    // A value that is not an object serialises to a short text, or to a string's: at most 6
    // bytes per UTF-16 unit (`\uXXXX`) and its quotes. Only objects need serialising to know.
    if (typeof value === 'string' ? value.length * 6 + 2 <= LAMBDA_RESPONSE_LIMIT_BYTES : typeof value !== 'object' || value === null) return undefined;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      return undefined;
    }
    return checkJsonSize(text, LAMBDA_RESPONSE_LIMIT_BYTES);
  },
};

/** An event the wrapper has no trigger for, as a direct invocation (logged when it looks like a known AWS shape). */
export function directInvocation(def: Definition, event: unknown, context: LambdaContext): Invocation {
  const shape = unrecognisedShape(event);
  if (shape) adapterLogger(def, 'aws', context.awsRequestId).warn('event not recognised; running it as a direct invocation', { shape });
  // Built member by member, not with conditional spreads: this is every direct call's hot path.
  const invocation: Invocation = {
    trigger: shape ? { kind: 'direct', source: 'lambda-invoke', unrecognised: shape } : { kind: 'direct', source: 'lambda-invoke' },
    requestId: context.awsRequestId,
    deliveryId: undefined,
    payload: () => event,
  };
  // Without plugins nothing can keep an oversized result (the runtime's own 413 fails the
  // invocation as Function.ResponseSizeTooLarge): skip the extra serialisation on the hot path.
  if (def.use.length > 0) invocation.result = DIRECT_RESULT;
  return invocation;
}

/**
 * An SQS batch: one invocation per message, or, for a message whose body is an S3 notification
 * (direct, via SNS, or an EventBridge event), one `storage` invocation per object change.
 * `owners[i]` is the index of the SQS message invocation i came from. A body that is a damaged
 * S3 notification (a key that is not URL-encoded, a record without a bucket) is one `queue`
 * invocation whose payload throws the MALFORMED_EVENT: that message alone fails (on a FIFO
 * queue, with every later one, as for any failure). Only a record without a `messageId` fails
 * the batch.
 */
export function sqsInvocations(def: Definition, event: Rec, context: LambdaContext): { invocations: Invocation[]; owners: number[]; ids: string[]; fifo: boolean } {
  const records = event.Records as unknown[];
  const ids: string[] = [];
  const owners: number[] = [];
  let fifo = false;
  const invocations = records.flatMap((record, index): Invocation[] => {
    if (!isRec(record)) throw new MalformedEventError('SQS record is not an object', [{ field: `Records.${index}`, message: 'Not an object', expected: 'an SQS record' }]);
    const r = record;
    const messageId = str(r.messageId);
    if (!messageId) throw new MalformedEventError('SQS record has no messageId', [{ field: `Records.${index}.messageId`, message: 'Missing', expected: 'string' }]);
    ids.push(messageId);
    const arn = str(r.eventSourceARN) ?? '';
    if (arn.endsWith('.fifo')) fifo = true;
    let s3: ReturnType<typeof s3ChangesInBody>;
    let unreadable: MalformedEventError | undefined;
    try {
      s3 = typeof r.body === 'string' ? s3ChangesInBody(r.body, `Records.${index}.body`) : undefined;
    } catch (thrown) {
      // A damaged S3 notification (or SNS envelope / EventBridge event of one) fails its message only.
      if (!(thrown instanceof MalformedEventError)) throw thrown;
      unreadable = thrown;
    }
    if (s3) {
      const items = s3Items(s3.changes, [...s3.via, 'sqs'].join('-'));
      for (const _ of items) owners.push(index);
      return items.map((item) => withRequestId(item, context));
    }
    owners.push(index);
    const { xray, ...item } = sqsMessageItem(r, messageId, { index, size: records.length }, def);
    if (unreadable) {
      const error = unreadable;
      item.payload = () => {
        throw error;
      };
    }
    // X-Ray's header (not W3C): used when no `traceparent` message attribute came.
    return [{ ...item, requestId: `${context.awsRequestId}:${messageId}`, ...(xray === undefined ? {} : { trace: { xray } }) }];
  });
  return { invocations, owners, ids, fifo };
}

export function withRequestId(item: EventItem, context: LambdaContext): Invocation {
  return { ...item, requestId: item.deliveryId === undefined ? context.awsRequestId : `${context.awsRequestId}:${item.deliveryId}` };
}

/**
 * Kinesis and DynamoDB Streams: records run in order and stop at the first failure; the answer
 * names the sequence number of the first failed record of each shard, so Lambda resumes there
 * and order holds (records after it were not run).
 */
async function runStreamBatch<I>(def: Definition, frame: Frame, invocations: Invocation[], identifiers: I[]): Promise<{ batchItemFailures: Array<{ itemIdentifier: I }> }> {
  const outcomes = await runBatch(def, frame, invocations, true);
  const response: { batchItemFailures: Array<{ itemIdentifier: I }> } = { batchItemFailures: [] };
  const failedShards = new Set<string>();
  outcomes.forEach((outcome, i) => {
    if (!reportsFailure(def, outcome)) return;
    const trigger = invocations[i]!.trigger;
    const shard = trigger.kind === 'stream' ? `${trigger.stream}\u0000${trigger.partition}` : trigger.kind === 'change' ? trigger.collection : '';
    if (failedShards.has(shard)) return;
    failedShards.add(shard);
    response.batchItemFailures.push({ itemIdentifier: identifiers[i]! });
  });
  return response;
}

/** Kafka's item identifier: the `records` key Lambda groups the record under, and its offset. */
function kafkaIdentifier(invocation: Invocation): { partition: string; offset: number } {
  const trigger = invocation.trigger as StreamTrigger;
  return { partition: `${trigger.stream}-${trigger.partition}`, offset: Number(trigger.sequence) };
}

/** Events answered by throwing (SNS, S3, Kafka, EventBridge): the first reported failure is thrown so Lambda retries. */
function throwFirstFailure(def: Definition, outcomes: Outcome[]): void {
  const failed = outcomes.find((o) => reportsFailure(def, o));
  if (failed && !failed.ok) fail(failed.error);
}

export function eventBridgeInvocation(kind: 'schedule' | 'eventbridge', event: Rec, context: LambdaContext): Invocation {
  // An empty or blank `id` is none: kept, every such event had one delivery id (one idempotency key).
  const id = nonEmptyStr(event.id) ?? context.awsRequestId;
  const time = str(event.time);
  const resources = Array.isArray(event.resources) ? event.resources.map(jsonText) : [];
  const replayName = replayNameOf(event);
  if (kind === 'schedule') {
    const schedule = resources[0];
    return {
      trigger: {
        kind: 'schedule',
        source: event.source === 'aws.scheduler' ? 'eventbridge-scheduler' : 'eventbridge',
        ...(time ? { scheduledTime: time } : {}),
        ...(schedule ? { schedule } : {}),
        ...(replayName ? { replayName } : {}),
      },
      requestId: context.awsRequestId,
      // The same tick of the same schedule is the same delivery, however often it is retried;
      // an archive replay of it is another (the rule an SQS body of it is keyed by).
      deliveryId: eventBridgeDeliveryId(event, id, true),
      // Scheduled rules send `{}`; a Scheduler input template may send the detail as JSON text.
      // A tick carries no data of its own, so a `null` detail is the same empty input as none.
      payload: () => (event.detail === undefined || event.detail === null ? {} : anyPayload(event.detail, 'auto', { field: 'detail', declaredJson: true })),
    };
  }
  return {
    trigger: {
      kind: 'event',
      source: 'eventbridge',
      type: String(event['detail-type']),
      eventSource: String(event.source),
      id,
      ...(time ? { time } : {}),
      ...(replayName ? { replayName } : {}),
    },
    requestId: context.awsRequestId,
    // `id`; an archive replay (`replay-name`) scoped by it, so that it runs again.
    deliveryId: eventBridgeDeliveryId(event, id, false),
    payload: () => event.detail,
  };
}

export function frameFor(event: unknown, context: LambdaContext): Frame {
  let remaining = Number.NaN;
  try {
    remaining = Number(context.getRemainingTimeInMillis());
  } catch {
    // A broken clock is treated as no clock.
  }
  return {
    provider: 'aws',
    principal: lambdaPrincipal,
    functionName: str(context.functionName) ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'lambda',
    deadline: Number.isFinite(remaining) ? Date.now() + remaining : Number.POSITIVE_INFINITY,
    raw: { event, context },
    requestId: str(context.awsRequestId),
  };
}

function fail(error: SteadyError): never {
  throw toPublicError(error);
}

/** Runs record items (SNS, S3, Kafka, DocumentDB) as one batch: in order when `ordered`; a failure is thrown. */
async function runThrowingBatch(def: Definition, frame: Frame, items: EventItem[], context: LambdaContext, ordered: boolean): Promise<unknown> {
  const invocations = items.map((item) => withRequestId(item, context));
  if (invocations.length === 1) {
    const outcome = await runInvocation(def, frame, invocations[0]!);
    throwFirstFailure(def, [outcome]);
    return outcome.ok ? outcome.value : undefined;
  }
  throwFirstFailure(def, await runBatch(def, frame, invocations, ordered));
  return undefined;
}

/**
 * What an unreadable event is answered with when `terminalErrors: 'ack'` acknowledges it: the
 * event's empty batch. `parts`: the event cut into one-record events, each read alone by `read`;
 * not an array when the event's shape itself is damaged.
 */
interface Unreadable<T> {
  def: Definition;
  context: LambdaContext;
  empty: T;
  parts: unknown;
  read: (part: never) => unknown;
}

/** Whether any one record of the event can be read on its own (then the event is not unreadable as a whole). */
function someReadable(unreadable: Unreadable<unknown>): boolean {
  if (!Array.isArray(unreadable.parts)) return false;
  return unreadable.parts.some((part) => {
    try {
      unreadable.read(part as never);
      return true;
    } catch {
      return false;
    }
  });
}

/** A Kafka event cut into one-record events (partition by partition); not an array when `records` is not an object. */
function kafkaParts(event: Rec): unknown {
  const records = event.records;
  if (!isRec(records)) return undefined;
  return Object.entries(records).flatMap(([key, list]) => (Array.isArray(list) ? list.map((record: unknown) => ({ ...event, records: { [key]: [record] } })) : []));
}

/**
 * Reads a batch's records, or throws the typed MALFORMED_EVENT that fails the whole batch. With
 * `unreadable` and `terminalErrors: 'ack'` (an event that can never be read is a terminal 400) an
 * event unreadable as a whole — no record of it can be read alone, or its shape is damaged — is
 * acknowledged instead: logged (code and field, never the payload) and read as `unreadable.empty`,
 * answered as an event with no records — no Lambda retry, no stream shard blocked on it. When
 * some record can be read, the error is thrown as under `'fail'`: acknowledging would drop the
 * readable records unrun, and the unreadable one (no sequence number, no offset) cannot be named
 * in a partial answer.
 */
function readBatch<T>(read: () => T, unreadable?: Unreadable<T>): T {
  try {
    return read();
  } catch (thrown) {
    const error = thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the event');
    if (unreadable === undefined || !acknowledgedFailure(unreadable.def, error) || someReadable(unreadable as Unreadable<unknown>)) return fail(error);
    adapterLogger(unreadable.def, 'aws', unreadable.context.awsRequestId).warn('unreadable event acknowledged', {
      code: error.code,
      ...(error.issues?.[0] ? { field: error.issues[0].field } : {}),
    });
    return unreadable.empty;
  }
}

async function runAuthorizer(def: Definition, frame: Frame, event: Rec, context: LambdaContext): Promise<unknown> {
  const item = readBatch(() => authorizerItem(event));
  const outcome = await runInvocation(def, frame, withRequestId(item, context));
  // API Gateway answers 401 only for the error message `Unauthorized`; any other error is a 500.
  if (!outcome.ok) throw outcome.error.status < 500 ? unauthorizedError() : toPublicError(outcome.error);
  try {
    return renderAuthorizerAnswer(outcome.value, item.trigger as AuthorizerTrigger);
  } catch (thrown) {
    adapterLogger(def, 'aws', context.awsRequestId).error('authorizer result cannot be sent', { code: 'AUTHORIZER_RESULT_INVALID' });
    return fail(thrown as SteadyError);
  }
}

/** A context that is not a Lambda context (`null`, `undefined`, a string): a typed error, as the other entries give. */
export function checkContext(context: unknown): asserts context is LambdaContext {
  if (!isRec(context)) {
    fail(new MalformedEventError('The Lambda context is missing', [{ field: 'context', message: 'Not an object', expected: 'the Lambda context object' }]));
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
  try {
    checkContext(context);
    const frame = frameFor(event, context);
    const read = pipesEvent(event);
    const kind = classifyLambdaEvent(read);
    withApiGatewayDeadline(def, kind, frame, read);
    if (kind === 'direct') return runInvocation(def, frame, directInvocation(def, event, context)).then(directAnswer);
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
    case 'sqs': {
      // Without message ids no partial response is possible: a malformed batch fails whole.
      const batch = readBatch(() => sqsInvocations(def, event as Rec, context));
      const outcomes = await runBatch(def, frame, batch.invocations, batch.fifo);
      const failed = new Set<number>();
      outcomes.forEach((outcome, i) => {
        if (reportsFailure(def, outcome)) failed.add(batch.owners[i]!);
      });
      return { batchItemFailures: [...failed].sort((a, b) => a - b).map((i) => ({ itemIdentifier: batch.ids[i]! })) } satisfies SqsBatchResponse;
    }
    case 'dynamodb-streams':
    case 'kinesis': {
      const records = (event as Rec).Records as unknown[];
      const batch = readBatch(() => (kind === 'kinesis' ? kinesisItems(records, def) : dynamoDbStreamItems(records)), {
        def, context, empty: { items: [], sequences: [], eventIds: [] }, parts: records,
        read: (record: unknown) => (kind === 'kinesis' ? kinesisItems([record], def) : dynamoDbStreamItems([record])),
      });
      // An event source mapping reads the failed record's sequence number; a Pipe its `eventID`
      // (EventBridge User Guide, "Pipes batching and concurrency", Partial batch failure).
      const identifiers = pipes ? batch.eventIds.map((id, i) => id || batch.sequences[i]!) : batch.sequences;
      return runStreamBatch(def, frame, batch.items.map((item) => withRequestId(item, context)), identifiers);
    }
    case 'sns':
      return runThrowingBatch(def, frame, readBatch(() => snsItems((event as Rec).Records as unknown[], def), { def, context, empty: [], parts: (event as Rec).Records, read: (record: unknown) => snsItems([record], def) }), context, false);
    case 's3':
      return runThrowingBatch(def, frame, readBatch(() => s3Items(s3NotificationChanges((event as Rec).Records as unknown[]), undefined), { def, context, empty: [], parts: (event as Rec).Records, read: (record: unknown) => s3Items(s3NotificationChanges([record]), undefined) }), context, false);
    case 's3-eventbridge':
      return runThrowingBatch(def, frame, readBatch(() => s3Items([s3EventBridgeChange(event as Rec)], 'eventbridge'), { def, context, empty: [], parts: undefined, read: () => undefined }), context, false);
    case 'kafka': {
      // Partition order holds: records run in order and stop at the first failure. Thrown (Lambda
      // retries the whole batch), or named per partition when the mapping reports item failures.
      // EventBridge Pipes reads no partial answer for a Kafka source (only SQS, Kinesis and
      // DynamoDB) and retries the entire batch on an error: it would take one for a success.
      const items = readBatch(() => lambdaKafkaItems(event as Rec, def), { def, context, empty: [], parts: kafkaParts(event as Rec), read: (part: Rec) => lambdaKafkaItems(part, def) });
      if (pipes || !def.kafkaBatchItemFailures) return runThrowingBatch(def, frame, items, context, true);
      const invocations = items.map((item) => withRequestId(item, context));
      return runStreamBatch(def, frame, invocations, invocations.map(kafkaIdentifier)) satisfies Promise<KafkaBatchResponse>;
    }
    case 'documentdb':
      // Change stream order holds: events run in order and stop at the first failure, which is
      // thrown — Lambda reads no partial batch answer for a DocumentDB event source mapping.
      return runThrowingBatch(def, frame, readBatch(() => documentDbItems(event as Rec), { def, context, empty: [], parts: Array.isArray((event as Rec).events) ? ((event as Rec).events as unknown[]).map((change) => ({ ...(event as Rec), events: [change] })) : undefined, read: (part: Rec) => documentDbItems(part) }), context, true);
    case 'schedule':
    case 'eventbridge': {
      const outcome = await runInvocation(def, frame, eventBridgeInvocation(kind, event as Rec, context));
      if (outcome.ok || !reportsFailure(def, outcome)) return outcome.ok ? outcome.value : undefined;
      return fail(outcome.error);
    }
  }
}
