/**
 * S3 object notifications as `storage` items, however they arrive: directly (`Records` with
 * `eventSource: 'aws:s3'`), inside an SNS notification, inside an SQS message (either of the
 * two, or SNS inside SQS), or as an EventBridge `Object Created` / `Object Deleted` event.
 *
 * S3 notification keys are form-encoded (`+` is a space, `%2B` a plus); EventBridge keys are not.
 * `ctx.deliveryId` is `bucket/key@sequencer` (S3 re-sends a notification with the same
 * sequencer), so the same upload is one delivery whichever route it took; an event that is
 * neither a creation nor a deletion (restore, tagging, ACL, storage class) adds its class
 * (`#restore-completed`), the same from every route (s3DeliveryId). An EventBridge archive
 * replay of an S3 event (`replay-name`) is keyed `replay/<name>#bucket/key@sequencer`
 * (s3ItemDeliveryId), as every other replayed EventBridge event, so that it runs again.
 */
import { isRecord, type Rec } from '../internal/record.js';
import { parseJsonLossless } from '../internal/json.js';
import type { StorageObject, StorageTrigger } from '../types.js';
import { replayNameOf } from './eventbridge-envelope.js';
import { malformed, needRecord, needString, opt, scopedDeliveryId, sizeOf, type EventItem } from './item.js';
import { isSnsEnvelope } from './sns-envelope.js';

/** One S3 object event, whatever carried it. */
export interface S3Change {
  eventType: string;
  object: StorageObject;
  sequencer: string | undefined;
  /** EventBridge only: the archive replay that sent the event again (its `replay-name`), when one did. */
  replayName?: string;
}

export function isS3Record(record: unknown): boolean {
  return isRecord(record) && record.eventSource === 'aws:s3';
}

/** `a+b%2Bc` → `a b+c`; a malformed escape is a typed error (S3 never sends one). */
export function decodeS3Key(key: string, field: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw malformed('S3 object key is not URL-encoded text', field, 'a URL-encoded key');
  }
}

function opOf(eventType: string): StorageObject['op'] {
  // S3 sends `ObjectCreated:Put`; hand-built events also write it as the notification
  // configuration names it, `s3:ObjectCreated:Put` (aws-lambda-go's s3-glacier-event.json).
  const name = eventType.startsWith('s3:') ? eventType.slice(3) : eventType;
  if (name.startsWith('ObjectCreated') || name === 'Object Created') return 'created';
  if (name.startsWith('ObjectRemoved') || name.startsWith('LifecycleExpiration') || name === 'Object Deleted') return 'deleted';
  return 'updated';
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** An empty versionId (the Java event library's for an unversioned object) is none. */
const versionText = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** One change from the fields both S3 notification shapes carry (under different names). */
function change(eventType: string, bucket: string, key: string, o: { size: unknown; etag: unknown; versionId: unknown; sequencer: unknown; time: unknown }): S3Change {
  return {
    eventType,
    sequencer: text(o.sequencer),
    object: {
      op: opOf(eventType),
      bucket,
      key,
      ...opt('size', sizeOf(o.size)),
      ...opt('etag', text(o.etag)),
      ...opt('versionId', versionText(o.versionId)),
      ...opt('time', text(o.time)),
    },
  };
}

function notificationChange(raw: unknown, field: string): S3Change {
  const record = needRecord(raw, field, 'an S3 event record');
  const eventType = needString(record.eventName, `${field}.eventName`);
  const s3 = needRecord(record.s3, `${field}.s3`);
  const bucket = needString(needRecord(s3.bucket, `${field}.s3.bucket`).name, `${field}.s3.bucket.name`);
  const object = needRecord(s3.object, `${field}.s3.object`);
  const key = decodeS3Key(needString(object.key, `${field}.s3.object.key`), `${field}.s3.object.key`);
  return change(eventType, bucket, key, { size: object.size, etag: object.eTag, versionId: object.versionId, sequencer: object.sequencer, time: record.eventTime });
}

/** Whether an EventBridge event is an S3 object event (`source: 'aws.s3'` with a bucket and an object). */
export function isS3EventBridgeEvent(event: Rec): boolean {
  return event.source === 'aws.s3' && typeof event['detail-type'] === 'string' && isRecord(event.detail) && isRecord(event.detail.object) && isRecord(event.detail.bucket);
}

function eventBridgeChange(event: Rec, field: string): S3Change {
  const eventType = needString(event['detail-type'], `${field}.detail-type`);
  const detail = needRecord(event.detail, `${field}.detail`);
  const bucket = needString(needRecord(detail.bucket, `${field}.detail.bucket`).name, `${field}.detail.bucket.name`);
  const object = needRecord(detail.object, `${field}.detail.object`);
  // EventBridge sends the key as it is, not form-encoded.
  const key = needString(object.key, `${field}.detail.object.key`);
  const base = change(eventType, bucket, key, { size: object.size, etag: object.etag, versionId: object['version-id'], sequencer: object.sequencer, time: event.time });
  const replayName = replayNameOf(event);
  return replayName === undefined ? base : { ...base, replayName };
}

/** The S3 test message S3 sends when a notification to SQS/SNS is configured: nothing to run. */
export function isS3TestEvent(value: unknown): boolean {
  return isRecord(value) && value.Event === 's3:TestEvent' && value.Service === 'Amazon S3';
}

/** Text every S3 notification, S3 EventBridge event and S3 test event carries, escaped or not inside an envelope. */
const S3_MARKERS = ['aws:s3', 'aws.s3', 's3:TestEvent'];

/**
 * The S3 changes inside a message body (SQS body, SNS `Message`): a notification, an SNS
 * envelope around one, or an EventBridge event. `undefined` when the body is none of these;
 * `[]` for the S3 test event.
 */
export function s3ChangesInBody(body: unknown, field: string, via: string[] = []): { changes: S3Change[]; via: string[] } | undefined {
  // Cheap refusal first: text naming none of `aws:s3` (notification records), `aws.s3`
  // (EventBridge) and `s3:TestEvent` is none of these — most SQS and SNS bodies, spared a parse.
  if (typeof body === 'string' && !S3_MARKERS.some((marker) => body.includes(marker))) return undefined;
  const parsed = typeof body === 'string' ? parseJsonLossless(body)?.value : body;
  if (!isRecord(parsed)) return undefined;
  if (isS3TestEvent(parsed)) return { changes: [], via };
  if (Array.isArray(parsed.Records) && parsed.Records.length > 0 && parsed.Records.every(isS3Record)) {
    return { changes: Array.from(parsed.Records).map((r, i) => notificationChange(r, `${field}.Records.${i}`)), via };
  }
  if (isS3EventBridgeEvent(parsed)) return { changes: [eventBridgeChange(parsed, field)], via: [...via, 'eventbridge'] };
  // An SNS envelope (an SNS subscription of an SQS queue without raw message delivery).
  if (isSnsEnvelope(parsed)) {
    return s3ChangesInBody(parsed.Message as string, `${field}.Message`, [...via, 'sns']);
  }
  return undefined;
}

/** The changes of a direct S3 event (`Records` of `aws:s3`). */
export function s3NotificationChanges(records: ReadonlyArray<unknown>): S3Change[] {
  return Array.from(records).map((r, i) => notificationChange(r, `Records.${i}`));
}

/** The change of an EventBridge S3 event. */
export function s3EventBridgeChange(event: Rec): S3Change {
  if (!isS3EventBridgeEvent(event)) throw malformed('Not an S3 EventBridge event', 'detail', 'an S3 object event');
  return eventBridgeChange(event, '');
}

/**
 * The class of each S3 event that is neither a creation nor a deletion, the same for a
 * notification's `eventName` and the EventBridge `detail-type` S3 sends for it (Amazon S3 User
 * Guide, "Amazon EventBridge mapping and troubleshooting" and "Supported event types for SQS,
 * SNS, and Lambda"). Such an event can carry the unchanged object's sequencer, which orders only
 * the PUT and DELETE events of a key ("Event message structure").
 */
const EVENT_CLASSES: ReadonlyMap<string, string> = new Map([
  ['ObjectRestore:Post', 'restore-initiated'],
  ['Object Restore Initiated', 'restore-initiated'],
  ['ObjectRestore:Completed', 'restore-completed'],
  ['Object Restore Completed', 'restore-completed'],
  ['ObjectRestore:Delete', 'restore-expired'],
  ['Object Restore Expired', 'restore-expired'],
  ['ObjectTagging:Put', 'tags-added'],
  ['Object Tags Added', 'tags-added'],
  ['ObjectTagging:Delete', 'tags-deleted'],
  ['Object Tags Deleted', 'tags-deleted'],
  ['ObjectAcl:Put', 'acl-updated'],
  ['Object ACL Updated', 'acl-updated'],
  ['LifecycleTransition', 'storage-class-changed'],
  ['Object Storage Class Changed', 'storage-class-changed'],
  ['IntelligentTiering', 'access-tier-changed'],
  ['Object Access Tier Changed', 'access-tier-changed'],
]);

/**
 * The event class a delivery id carries: none for a creation or a deletion (`ObjectCreated:*`,
 * `ObjectRemoved:*`, `LifecycleExpiration:*`, `Object Created`, `Object Deleted`), whose ids
 * stay `bucket/key@sequencer`; the class above for the others; for any other event (such as
 * `Replication:OperationFailedReplication`, which EventBridge does not send) its name in
 * kebab case, at most 64 characters.
 */
export function s3EventClass(eventType: string): string | undefined {
  const name = eventType.startsWith('s3:') ? eventType.slice(3) : eventType;
  if (opOf(name) !== 'updated') return undefined;
  const known = EVENT_CLASSES.get(name);
  if (known !== undefined) return known;
  const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return kebab || 'other';
}

/**
 * The delivery identity of one object change: the same whichever route carried it.
 * `bucket/key@sequencer` for a creation or a deletion, `bucket/key@sequencer#<class>` for any
 * other event (`#restore-completed`, `#tags-added`, … see s3EventClass), so that a restore or a
 * tagging of an object is not taken for its upload, nor its completion for its start.
 */
export function s3DeliveryId(change: S3Change): string {
  const o = change.object;
  const cls = s3EventClass(change.eventType);
  return `${o.bucket}/${o.key}@${change.sequencer ?? `${o.versionId ?? ''}${o.time ?? ''}`}${cls === undefined ? '' : `#${cls}`}`;
}

/**
 * The delivery id of a change's item: {@link s3DeliveryId}, scoped by the archive replay that
 * sent it again when one did (`replay/<name>#<id>`, as `eventBridgeDeliveryId` scopes every
 * other EventBridge event) — a replay, which is asked for, runs again instead of being answered
 * as a duplicate of the live event; a second run of the same replay is still one delivery.
 *
 * @example s3ItemDeliveryId({ eventType: 'Object Created', sequencer: '0A1', replayName: 'fix-03', object: { op: 'created', bucket: 'b', key: 'k' } }) // 'replay/fix-03#b/k@0A1'
 */
export function s3ItemDeliveryId(change: S3Change): string {
  const id = s3DeliveryId(change);
  return change.replayName === undefined ? id : scopedDeliveryId(`replay/${change.replayName}`, id);
}

/** A storage item for each change; `via` names the wrapping (`sns`, `sqs`, `eventbridge`, `sns-sqs`). */
export function s3Items(changes: ReadonlyArray<S3Change>, via: string | undefined, batch: { offset: number; size: number } = { offset: 0, size: changes.length }): EventItem[] {
  return changes.map((change, i): EventItem => {
    const o = change.object;
    const trigger: StorageTrigger = {
      kind: 'storage',
      source: 's3',
      ...opt('via', via),
      op: o.op,
      eventType: change.eventType,
      bucket: o.bucket,
      key: o.key,
      ...opt('size', o.size),
      ...opt('etag', o.etag),
      ...opt('replayName', change.replayName),
      batchIndex: batch.offset + i,
      batchSize: batch.size,
    };
    return { trigger, deliveryId: s3ItemDeliveryId(change), payload: () => ({ ...o }) };
  });
}
