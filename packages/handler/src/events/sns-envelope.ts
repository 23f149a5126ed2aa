/**
 * The SNS notification an SQS queue receives when an SNS topic delivers to it without raw
 * message delivery: the SQS body is the JSON envelope `{ Type: 'Notification', MessageId,
 * TopicArn, Subject?, Message, Timestamp, SignatureVersion, Signature, SigningCertURL,
 * UnsubscribeURL, MessageAttributes?: { name: { Type, Value } } }` (SNS developer guide,
 * "Amazon SNS message and JSON formats" and "Fanout to Amazon SQS queues"). Detected strictly —
 * every member SNS always sends, each a string — so a user's JSON body that merely has a
 * `Type` or a `Message` is never taken for one. A FIFO topic's envelope carries no signature
 * members (`SignatureVersion`, `Signature`, `SigningCertURL`) but a `SequenceNumber`, and is
 * recognised by that and its `.fifo` topic ARN instead.
 */
import { isRecord, nonEmptyStr, type Rec } from '../internal/record.js';
import type { SnsNotification } from '../types.js';
import { AttributeSink, snsMessageAttributes } from './attributes.js';
import { malformed, opt } from './item.js';

/** Members every SNS notification envelope carries, each a string (SNS docs, "HTTP/HTTPS notification JSON format"). */
const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'UnsubscribeURL'] as const;
/** Members a standard topic's envelope carries and a FIFO topic's leaves out (it has `SequenceNumber` instead). */
const SIGNED = ['SignatureVersion', 'Signature', 'SigningCertURL'] as const;

/** An SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<topic>`. */
const TOPIC_ARN = /^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w-]+(\.fifo)?$/;

/** ISO 8601 UTC as SNS writes `Timestamp` (`2025-03-02T12:00:00.000Z`). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Whether a parsed SQS body is an SNS notification envelope: `Type: 'Notification'`, every
 * required member a string, and either the signature members (standard topics) or a
 * `SequenceNumber` and a topic ARN ending in `.fifo` (FIFO topics, which sign nothing; as in
 * the Powertools parser's `sqs/sns-event-fifo.json` sample).
 */
export function isSnsEnvelope(value: unknown): value is Rec {
  if (!isRecord(value) || value.Type !== 'Notification') return false;
  for (const name of REQUIRED) if (typeof value[name] !== 'string') return false;
  if (SIGNED.every((name) => typeof value[name] === 'string')) return true;
  return typeof value.SequenceNumber === 'string' && (value.TopicArn as string).endsWith('.fifo');
}

/**
 * The SNS envelope an SQS body holds, parsed; undefined when the body is anything else (not
 * text, not JSON, JSON of another shape — an EventBridge event delivered to SQS included).
 */
export function snsEnvelopeInBody(body: unknown): Rec | undefined {
  // Cheap refusal first: most bodies are not envelopes, and those need no parse here.
  if (typeof body !== 'string' || !body.includes('"TopicArn"') || !body.includes('"Notification"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return isSnsEnvelope(parsed) ? parsed : undefined;
}

/**
 * The SNS parts of a detected envelope: the notification's identity, its `Message` text, and
 * its `MessageAttributes` written into `sink` (the same `{ Type, Value }` reading as the SNS
 * trigger: text as sent, `Binary` decoded, each `Type` kept).
 *
 * @param field - where the envelope sits (`Records.0.body`), for error fields.
 * @throws MalformedEventError (`MALFORMED_EVENT`) naming the member when `MessageId` is empty or blank,
 *   `TopicArn` is not an SNS topic ARN, `Timestamp` is not an ISO 8601 UTC time, `Subject` is
 *   neither text nor null, or a message attribute is malformed.
 */
export function readSnsEnvelope(envelope: Rec, field: string, sink: AttributeSink): { sns: SnsNotification; message: string } {
  const messageId = envelope.MessageId as string;
  if (nonEmptyStr(messageId) === undefined) throw malformed('SNS envelope MessageId is empty', `${field}.MessageId`, 'the SNS message id');
  const topic = envelope.TopicArn as string;
  if (!TOPIC_ARN.test(topic)) throw malformed('SNS envelope TopicArn is not an SNS topic ARN', `${field}.TopicArn`, 'arn:<partition>:sns:<region>:<account>:<topic>');
  const time = envelope.Timestamp as string;
  if (!TIMESTAMP.test(time) || Number.isNaN(Date.parse(time))) throw malformed('SNS envelope Timestamp is not a time', `${field}.Timestamp`, 'ISO 8601 UTC, e.g. 2025-03-02T12:00:00.000Z');
  const subject = envelope.Subject;
  if (subject !== undefined && subject !== null && typeof subject !== 'string') throw malformed('SNS envelope Subject is not text', `${field}.Subject`, 'a string or null');
  snsMessageAttributes(envelope.MessageAttributes, `${field}.MessageAttributes`, sink);
  const sequenceNumber = typeof envelope.SequenceNumber === 'string' ? envelope.SequenceNumber : undefined;
  const sns: SnsNotification = { topic, messageId, ...opt('subject', typeof subject === 'string' ? subject : undefined), time, ...opt('sequenceNumber', sequenceNumber) };
  return { sns, message: envelope.Message as string };
}
