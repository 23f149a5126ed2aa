/**
 * SNS notifications delivered to Lambda (`Records` with `EventSource: 'aws:sns'`) as
 * `notification` items, one per record. An S3 event inside the message is a `storage` item
 * instead (see s3.ts). The message text goes through the handler's `body` mode.
 */
import { isRecord } from '../internal/record.js';
import { textPayload } from '../message.js';
import type { NotificationTrigger } from '../types.js';
import { snsMessageAttributes } from './attributes.js';
import { needIdString, needRecord, needString, opt, rawBodyOf, withRawBody, type EventItem, type ParseOptions } from './item.js';
import { s3ChangesInBody, s3Items } from './s3.js';

export function isSnsRecord(record: unknown): boolean {
  return isRecord(record) && record.EventSource === 'aws:sns';
}

/** Each record of an SNS event; S3 notifications published to the topic become storage items. */
export function snsItems(records: ReadonlyArray<unknown>, options: ParseOptions): EventItem[] {
  return Array.from(records).flatMap((raw, index): EventItem[] => {
    const field = `Records.${index}`;
    const record = needRecord(raw, field, 'an SNS record');
    const sns = needRecord(record.Sns, `${field}.Sns`);
    const messageId = needIdString(sns.MessageId, `${field}.Sns.MessageId`);
    const message = sns.Message;
    const s3 = typeof message === 'string' ? s3ChangesInBody(message, `${field}.Sns.Message`, ['sns']) : undefined;
    if (s3) return s3Items(s3.changes, s3.via.join('-'));
    const trigger: NotificationTrigger = {
      kind: 'notification',
      source: 'sns',
      topic: typeof sns.TopicArn === 'string' ? sns.TopicArn : '',
      messageId,
      type: typeof sns.Type === 'string' ? sns.Type : 'Notification',
      ...opt('subject', typeof sns.Subject === 'string' ? sns.Subject : undefined),
      ...opt('time', typeof sns.Timestamp === 'string' ? sns.Timestamp : undefined),
      // `{ Type, Value }`: text as it is, `Binary` decoded from base64.
      ...snsMessageAttributes(sns.MessageAttributes, `${field}.Sns.MessageAttributes`),
      batchIndex: index,
      batchSize: records.length,
    };
    withRawBody(trigger, () => rawBodyOf(message));
    return [{ trigger, deliveryId: messageId, payload: () => textPayload(needString(message, `${field}.Sns.Message`, 'text'), options.body, { field: `${field}.Sns.Message` }) }];
  });
}
