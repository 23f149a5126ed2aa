/**
 * Whether a value a middy handler returned says that the invocation's own message failed. Under
 * middy a Lambda event of one SQS message or one stream record is one invocation (its `ctx`, its
 * idempotency key, its inbox claim), and the handler answers Lambda's partial batch response
 * itself: `{ batchItemFailures: [{ itemIdentifier }] }` (the AWS samples), or — with
 * `@middy/sqs-partial-batch-failure` — the `Promise.allSettled` array that middleware turns into
 * one. Such a value is not a result to keep: Lambda redelivers the message (SQS) or retries the
 * record (Kinesis, DynamoDB Streams, Kafka), and that retry must run the function again.
 */
import { isMiddyInvocation } from './middy-request.js';
import { isRecord } from './record.js';

/** The `eventSource` of the records of a Lambda event whose function may answer a partial batch response (`ReportBatchItemFailures`). */
const RECORD_SOURCES: ReadonlySet<unknown> = new Set(['aws:sqs', 'aws:kinesis', 'aws:dynamodb']);
/** A Kafka event's `eventSource` (Amazon MSK, self-managed). */
const KAFKA_SOURCES: ReadonlySet<unknown> = new Set(['aws:kafka', 'SelfManagedKafka', 'aws:SelfManagedKafka']);

/**
 * Whether a Lambda event comes from a source that reads partial batch responses: SQS, Kinesis,
 * DynamoDB Streams (`Records`, or the EventBridge Pipes array of them), Kafka's event source
 * mapping (not a Pipes Kafka array: Pipes reads no partial answer for Kafka). A shape check of
 * the event the adapter already read, not a parse (the parsers stay out of `/internal`).
 */
function fromPartialBatchSource(event: unknown): boolean {
  const records = Array.isArray(event) ? event : isRecord(event) && Array.isArray(event.Records) ? (event.Records as unknown[]) : undefined;
  if (records !== undefined) return records.length > 0 && records.every((r) => isRecord(r) && RECORD_SOURCES.has(r.eventSource));
  return isRecord(event) && KAFKA_SOURCES.has(event.eventSource) && isRecord(event.records);
}

/** Whether `value` is `{ batchItemFailures: [...] }` with at least one entry. */
function namesFailures(value: unknown): boolean {
  return isRecord(value) && Array.isArray(value.batchItemFailures) && value.batchItemFailures.length > 0;
}

/**
 * Whether `value` is a `Promise.allSettled` array whose first entry (the one message's) was
 * rejected: exactly `{ status: 'rejected', reason }`, so a domain result such as
 * `[{ id: 1, status: 'rejected' }]` (a refused loan application) stays the function's result.
 */
function firstRejected(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  const first: unknown = value[0];
  if (!isRecord(first) || first.status !== 'rejected' || !Object.hasOwn(first, 'reason')) return false;
  const keys = Object.keys(first);
  return keys.length === 2;
}

/**
 * Whether `value`, what the function returned (or what a middy `after` made of it), says that
 * this invocation's own item failed, so that a plugin must treat it as a failure — release an
 * idempotency record or an inbox claim rather than complete it — and not as the function's result.
 *
 * True only under middy (`toMiddy()`; under `handler()` the function's value is never Lambda's
 * answer, `handler()` builds the partial batch response itself), for a Lambda event of one unit
 * of work from a source that reads partial batch responses — one SQS message (also through
 * EventBridge Pipes, and an S3 or SNS notification carried in it), one Kinesis or DynamoDB
 * Streams record (also through Pipes), one Kafka record of an event source mapping (Lambda reads
 * its partial answer with `ReportBatchItemFailures`; Pipes reads none for Kafka) — when `value` is either:
 * - `{ batchItemFailures: [...] }` with any entry: the event holds only this item, so an entry
 *   names it (its SQS `messageId`, its Kinesis or DynamoDB `SequenceNumber`, its Kafka
 *   `{ partition, offset }`), and Lambda reads one naming anything else as the whole batch failed;
 * - a `Promise.allSettled` array whose first entry (this item's) has `status: 'rejected'`, as a
 *   handler under `@middy/sqs-partial-batch-failure` returns it before that middleware's `after`.
 *
 * `{ batchItemFailures: [] }` (or `null`), a fulfilled settled entry, and any other value are not
 * failures. An event of several records is one `direct` invocation under middy (no per-message
 * key): false. Never throws: a value whose members throw on read counts as no failure.
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it (`trigger`, `raw`).
 * @param value - The returned value.
 * @returns Whether the value reports this invocation's own item failed.
 * @example
 * if (ownItemFailed(ctx, result)) return release(ctx, state); // its redelivery runs the function again
 */
export function ownItemFailed(ctx: { trigger: { kind: string }; raw?: unknown }, value: unknown): boolean {
  try {
    if (!namesFailures(value) && !firstRejected(value)) return false;
    if (ctx.trigger.kind === 'direct' || !isMiddyInvocation(ctx)) return false;
    return fromPartialBatchSource((ctx.raw as { event?: unknown }).event);
  } catch {
    return false;
  }
}
