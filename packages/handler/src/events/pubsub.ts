/**
 * Pub/Sub messages in the push envelope `{ message, subscription, deliveryAttempt? }`
 * (https://cloud.google.com/pubsub/docs/push): the one place a Pub/Sub message becomes a
 * `queue` trigger, whether it came in a `messagePublished` CloudEvent's `data`, as a push the
 * Functions Framework did not convert, or POSTed to an HTTP function (`gcpPubSubPush`).
 */
import { MalformedEventError } from '../errors.js';
import { isRecord, nonEmptyStr, str, type Rec } from '../internal/record.js';
import { parseJsonLossless } from '../internal/json.js';
import { anyPayload, base64Payload } from '../message.js';
import type { QueueTrigger } from '../types.js';
import { propertiesAsText } from './attributes.js';
import { rawBase64, rawBodyOf, scopedDeliveryId, withRawBody, type EventItem, type ParseOptions } from './item.js';

/** The push envelope `{ message, subscription, deliveryAttempt }`, parsed if it came as text or bytes. */
export function pubSubEnvelope(data: unknown): Rec | undefined {
  if (isRecord(data) && !Buffer.isBuffer(data)) return data;
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : typeof data === 'string' ? data : undefined;
  if (text === undefined) return undefined;
  const parsed = parseJsonLossless(text)?.value;
  return isRecord(parsed) ? parsed : undefined;
}

/** A push envelope that is not a CloudEvent: `{ message: { messageId | message_id, … }, … }`. */
export function isRawPubSubPush(body: Rec): boolean {
  return body.specversion === undefined && isRecord(body.message) && (typeof body.message.messageId === 'string' || typeof body.message.message_id === 'string');
}

/**
 * A Pub/Sub message's `ctx.deliveryId`: the message id scoped by where it is unique,
 * `<scope>#<messageId>` (`scopedDeliveryId`) — the topic the CloudEvent `source` names
 * (`//pubsub.googleapis.com/projects/<p>/topics/<t>`), else (a push, which names no topic) the
 * subscription; the bare message id when neither is known. A message id is unique only within
 * its topic, so two topics feeding one function may send one id; a redelivery keeps the pair.
 *
 * @param scope the topic source, else the subscription (`projects/<p>/subscriptions/<s>`)
 * @example pubSubDeliveryId('//pubsub.googleapis.com/projects/p/topics/payments', '2070443601311540') // '//pubsub.googleapis.com/projects/p/topics/payments#2070443601311540'
 */
export function pubSubDeliveryId(scope: string | undefined, messageId: string): string {
  return scope ? scopedDeliveryId(scope, messageId) : messageId;
}

/**
 * The message of a push envelope as a `queue` trigger: `messageId`, the subscription as `queue`
 * (else the topic `source` names), `ctx.deliveryId` = `<topic source, else subscription>#<messageId>`
 * (`pubSubDeliveryId`, the same on every redelivery), `attempt`
 * (`deliveryAttempt`, set only with a dead-letter policy), `groupId` (the ordering key), the
 * attributes, and the base64 `data` decoded under the `body` option.
 *
 * @param fallbackId the id to use when the message has none (a CloudEvent's own id)
 * @param source the CloudEvent `source` (`//pubsub.googleapis.com/projects/…/topics/…`), if any
 * @throws MalformedEventError (`MALFORMED_EVENT`) without a message or a message id
 */
export function pubSubItem(envelope: Rec | undefined, fallbackId: string | undefined, source: string | undefined, options: ParseOptions): EventItem {
  const message = envelope && isRecord(envelope.message) ? envelope.message : undefined;
  if (!message) throw new MalformedEventError('Pub/Sub event has no message', [{ field: 'data.message', message: 'Missing', expected: 'object' }]);
  // An empty or blank id is none (it would key every such message alike): the next one counts.
  const messageId = nonEmptyStr(message.messageId) ?? nonEmptyStr(message.message_id) ?? nonEmptyStr(fallbackId);
  if (!messageId) throw new MalformedEventError('Pub/Sub message has no messageId', [{ field: 'data.message.messageId', message: 'Missing', expected: 'string' }]);
  // `map<string, string>` (Pub/Sub PubsubMessage): text only, no binary or typed attributes.
  const attributes = propertiesAsText(message.attributes);
  // Present only when the subscription has a dead-letter policy.
  const attempt = Number(envelope?.deliveryAttempt ?? message.deliveryAttempt);
  // Without the subscription, the topic the source names; a raw push the framework converted
  // without a topic in the path has the bare `//pubsub.googleapis.com/` source: no queue then.
  const topic = source !== undefined && /\/topics\/[^/]/.test(source) ? source : undefined;
  const queue = str(envelope?.subscription) ?? topic;
  const data = message.data;
  // Set only by publishers with message ordering on (an empty key is "no key").
  const groupId = str(message.orderingKey) ?? str(message.ordering_key);
  return {
    trigger: withRawBody<QueueTrigger>(
      {
        kind: 'queue',
        source: 'pubsub',
        ...(queue ? { queue } : {}),
        messageId,
        ...(Number.isInteger(attempt) && attempt > 0 ? { attempt } : {}),
        ...(groupId ? { groupId } : {}),
        attributes,
        batchIndex: 0,
        batchSize: 1,
      },
      () => (typeof data === 'string' ? rawBase64(data) : rawBodyOf(data)),
    ),
    deliveryId: pubSubDeliveryId(topic ?? queue, messageId),
    payload: () => {
      if (data === undefined || data === null) return undefined;
      return typeof data === 'string' ? base64Payload(data, options.body, { field: 'data.message.data' }) : anyPayload(data, options.body, { field: 'data.message.data' });
    },
  };
}
