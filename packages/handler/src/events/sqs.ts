/**
 * One SQS message of a Lambda SQS batch as a `queue` item (S3 notifications inside SQS bodies
 * are read by s3.ts first). A body that is an SNS notification envelope (SNS → SQS without raw
 * message delivery) is read as the notification it carries, unless the handler keeps it
 * (`snsEnvelope: 'keep'`): see sns-envelope.ts. A body that is a whole EventBridge event (a rule
 * with the queue as target) is keyed by the event's id unless the handler keeps it
 * (`eventBridgeEnvelope: 'keep'`): see eventbridge-envelope.ts.
 */
import { MalformedEventError } from '../errors.js';
import { isRecord, nonEmptyStr, str, type Rec } from '../internal/record.js';
import { anyPayload, textPayload } from '../message.js';
import type { QueueTrigger, SnsNotification } from '../types.js';
import { AttributeSink, sqsMessageAttributes } from './attributes.js';
import { rawBodyOf, withRawBody, type EventItem, type ParseOptions } from './item.js';
import { eventBridgeDelivery, eventBridgeEventInBody } from './eventbridge-envelope.js';
import { readSnsEnvelope, snsEnvelopeInBody } from './sns-envelope.js';

/** What the SQS reader takes from the handler. */
export interface SqsParseOptions extends ParseOptions {
  snsEnvelope?: 'unwrap' | 'keep' | undefined;
  eventBridgeEnvelope?: 'read' | 'keep' | undefined;
}

/** SQS's ordering attributes (`Records[].attributes`), each left out when absent or empty. */
function orderingOf(attrs: Rec): Pick<QueueTrigger, 'groupId' | 'sequenceNumber' | 'deduplicationId'> {
  const groupId = str(attrs.MessageGroupId);
  const sequenceNumber = str(attrs.SequenceNumber);
  const deduplicationId = str(attrs.MessageDeduplicationId);
  return { ...(groupId ? { groupId } : {}), ...(sequenceNumber ? { sequenceNumber } : {}), ...(deduplicationId ? { deduplicationId } : {}) };
}

/**
 * The item of SQS record `record` (at `Records.<batch.index>`, `messageId` already checked). A
 * malformed message attribute or SNS envelope part does not throw here: the item's payload
 * throws it, so that message alone fails (`batchItemFailures`).
 *
 * `deliveryId`: the SQS message id; for an unwrapped SNS notification the SNS message id, which
 * is the same in every queue the topic fans the message out to and when SNS delivers it to a
 * queue twice (SQS gives each such copy a new message id) — one notification is one delivery
 * for the function, as it is on the SNS trigger. For an EventBridge event the event's id
 * (eventbridge-envelope.ts `eventBridgeDelivery`): EventBridge's retries to the queue send copies
 * with new SQS message ids.
 */
export function sqsMessageItem(record: Rec, messageId: string, batch: { index: number; size: number }, options: SqsParseOptions): EventItem & { xray: unknown } {
  const index = batch.index;
  const field = `Records.${index}`;
  const sink = new AttributeSink();
  // SQS attributes first: for a name both carry, the publisher's SNS attribute wins.
  let error = sqsMessageAttributes(record.messageAttributes, `${field}.messageAttributes`, sink).error;
  const envelope = options.snsEnvelope === 'keep' ? undefined : snsEnvelopeInBody(record.body);
  let notification: { sns: SnsNotification; message: string } | undefined;
  if (envelope) {
    try {
      notification = readSnsEnvelope(envelope, `${field}.body`, sink);
    } catch (thrown) {
      if (!(thrown instanceof MalformedEventError)) throw thrown;
      error ??= thrown;
    }
  }
  const event = envelope || options.eventBridgeEnvelope === 'keep' ? undefined : eventBridgeEventInBody(record.body);
  const delivery = event ? eventBridgeDelivery(event) : undefined;
  const attrs = isRecord(record.attributes) ? record.attributes : {};
  const receiveCount = Number(attrs.ApproximateReceiveCount);
  const arn = str(record.eventSourceARN) ?? '';
  const trigger: QueueTrigger = {
    kind: 'queue',
    source: 'sqs',
    queue: arn.split(':').pop() ?? '',
    messageId,
    ...(Number.isFinite(receiveCount) && receiveCount > 0 ? { attempt: receiveCount } : {}),
    ...orderingOf(attrs),
    ...sink.result(),
    ...(notification ? { sns: notification.sns } : {}),
    ...(delivery ? { eventBridge: delivery.ref } : {}),
    batchIndex: index,
    batchSize: batch.size,
  };
  // The payload only: for an SNS envelope its `Message` (the envelope's signature, unsubscribe
  // URL and SQS's receipt handle and receive count differ between copies of one message).
  withRawBody(trigger, () => (envelope ? notification?.message : rawBodyOf(record.body)));
  return {
    trigger,
    // A detected envelope always has a MessageId (a string; an empty or blank one fails the message).
    deliveryId: envelope ? (nonEmptyStr(envelope.MessageId) ?? messageId) : (delivery?.deliveryId ?? messageId),
    payload: () => {
      if (error) throw error;
      if (notification) return textPayload(notification.message, options.body, { field: `${field}.body.Message` });
      return anyPayload(record.body, options.body, { field: `${field}.body` });
    },
    xray: attrs.AWSTraceHeader,
  };
}
