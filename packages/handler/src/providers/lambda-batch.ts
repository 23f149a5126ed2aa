/**
 * AWS Lambda batches: reading a batch's records (an event unreadable as a whole, acknowledged
 * under `terminalErrors: 'ack'`), and their answers — partial batch responses for SQS, Kinesis,
 * DynamoDB Streams and Kafka (`kafkaBatchItemFailures`), the first failure thrown for the events
 * Lambda reads no partial answer for (SNS, S3, Kafka, DocumentDB).
 */
import { MalformedEventError } from '../errors.js';
import { isRecord as isRec, type Rec } from '../internal/record.js';
import { acknowledgedFailure } from '../batch.js';
import { adapterLogger, reportsFailure, runBatch, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import type { Outcome, StreamTrigger } from '../types.js';
import type { EventItem } from '../events/item.js';
import { fail, sqsInvocations, withRequestId } from './lambda-invocations.js';
import type { LambdaContext, SqsBatchResponse } from './lambda.js';

/**
 * Kinesis and DynamoDB Streams: records run in order and stop at the first failure; the answer
 * names the sequence number of the first failed record of each shard, so Lambda resumes there
 * and order holds (records after it were not run).
 */
export async function runStreamBatch<I>(def: Definition, frame: Frame, invocations: Invocation[], identifiers: I[]): Promise<{ batchItemFailures: Array<{ itemIdentifier: I }> }> {
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
export function kafkaIdentifier(invocation: Invocation): { partition: string; offset: number } {
  const trigger = invocation.trigger as StreamTrigger;
  return { partition: `${trigger.stream}-${trigger.partition}`, offset: Number(trigger.sequence) };
}

/** Events answered by throwing (SNS, S3, Kafka, EventBridge): the first reported failure is thrown so Lambda retries. */
function throwFirstFailure(def: Definition, outcomes: Outcome[]): void {
  const failed = outcomes.find((o) => reportsFailure(def, o));
  if (failed && !failed.ok) fail(failed.error);
}

/** Runs record items (SNS, S3, Kafka, DocumentDB) as one batch: in order when `ordered`; a failure is thrown. */
export async function runThrowingBatch(def: Definition, frame: Frame, items: EventItem[], context: LambdaContext, ordered: boolean): Promise<unknown> {
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
export interface Unreadable<T> {
  def: Definition;
  /** The call's frame: its function name and cold start, for the log line. */
  frame: Frame;
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
export function kafkaParts(event: Rec): unknown {
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
export function readBatch<T>(read: () => T, unreadable?: Unreadable<T>): T {
  try {
    return read();
  } catch (thrown) {
    const error = thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the event');
    if (unreadable === undefined || !acknowledgedFailure(unreadable.def, error) || someReadable(unreadable as Unreadable<unknown>)) return fail(error);
    adapterLogger(unreadable.def, unreadable.frame, unreadable.context.awsRequestId).warn('unreadable event acknowledged', {
      code: error.code,
      ...(error.issues?.[0] ? { field: error.issues[0].field } : {}),
    });
    return unreadable.empty;
  }
}

/**
 * An SQS batch: messages run (in order and stopping at the first failure on a FIFO queue), and
 * the answer names each message any of whose invocations reported a failure, in batch order.
 * Without message ids no partial response is possible: a malformed batch fails whole.
 */
export async function runSqsBatch(def: Definition, frame: Frame, event: Rec, context: LambdaContext): Promise<SqsBatchResponse> {
  const batch = readBatch(() => sqsInvocations(def, event, context));
  const outcomes = await runBatch(def, frame, batch.invocations, batch.fifo);
  const failed = new Set<number>();
  outcomes.forEach((outcome, i) => {
    if (reportsFailure(def, outcome)) failed.add(batch.owners[i]!);
  });
  return { batchItemFailures: [...failed].sort((a, b) => a - b).map((i) => ({ itemIdentifier: batch.ids[i]! })) };
}
