/**
 * Cloud Storage CloudEvents (`google.cloud.storage.object.v1.*`, data: StorageObjectData as
 * JSON) as `storage` items. `finalized` is a created object (a new generation); `metadataUpdated`
 * an update. `deleted` and `archived` are `op: 'deleted'` about the generation in the event —
 * not necessarily about the key (Cloud Storage docs, "Pub/Sub notifications for Cloud Storage",
 * event types):
 * - `archived`: in a versioned bucket, a live generation became noncurrent — because the object
 *   was deleted **or overwritten** (then a `finalized` for the new generation comes too). It is
 *   marked `noncurrent: true`: the key may still have a live generation.
 * - `deleted`: a generation was permanently deleted — in a bucket without versioning this also
 *   fires for the old generation when the object is **overwritten**, next to the new one's
 *   `finalized`.
 * So neither says the key is gone: compare `versionId` (the generation) with the live object's.
 * Follows googleapis/google-cloudevents `google/events/cloud/storage/v1/data.proto`.
 */
import { isRecord, type Rec } from '../internal/record.js';
import type { StorageObject, StorageTrigger } from '../types.js';
import { needIdString, needRecord, needString, opt, scopedDeliveryId, sizeOf, type EventItem } from './item.js';

const PREFIX = 'google.cloud.storage.object.v1.';
const OPS: Record<string, StorageObject['op']> = { finalized: 'created', deleted: 'deleted', archived: 'deleted', metadataUpdated: 'updated' };

/**
 * The object's generation as text: the int64 JSON string Cloud Storage sends, or a number a
 * hand-built or converted event carries (only a safe integer: a larger one is already rounded).
 */
function generationText(value: unknown): string | undefined {
  if (typeof value === 'string') return value !== '' ? value : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
}

export function isCloudStorageEvent(type: string): boolean {
  return type.startsWith(PREFIX) && Object.hasOwn(OPS, type.slice(PREFIX.length));
}

/**
 * The storage item of a Cloud Storage CloudEvent (`data` already decoded from JSON). Its
 * `deliveryId` is `<source>#<id>` (`scopedDeliveryId`): on Eventarc the id is a Pub/Sub message
 * id, unique only within its topic, so two buckets feeding one function may send one id.
 *
 * @throws MalformedEventError (`MALFORMED_EVENT`) without a `type`, `id`, `source` or object
 */
export function cloudStorageItem(ce: Rec, data: unknown): EventItem {
  const type = needString(ce.type, 'type');
  const id = scopedDeliveryId(needString(ce.source, 'source'), needIdString(ce.id, 'id'));
  const object = needRecord(isRecord(data) ? data : undefined, 'data', 'a Cloud Storage object (JSON)');
  // A legacy `object.change` for a deleted object reaches a CloudEvent function as `finalized`
  // (the framework's conversion), with `resourceState: 'not_exists'` still in the object.
  const event = type.slice(PREFIX.length);
  const op = object.resourceState === 'not_exists' ? 'deleted' : OPS[event]!;
  const noncurrent = event === 'archived' ? true : undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const value: StorageObject = {
    op,
    bucket: needString(object.bucket, 'data.bucket'),
    key: needString(object.name, 'data.name'),
    ...opt('size', sizeOf(object.size)),
    ...opt('etag', str(object.etag)),
    ...opt('contentType', str(object.contentType)),
    ...opt('versionId', generationText(object.generation)),
    ...opt('noncurrent', noncurrent),
    ...opt('time', str(ce.time) ?? str(object.updated)),
  };
  const trigger: StorageTrigger = {
    kind: 'storage',
    source: 'cloud-storage',
    op,
    ...opt('noncurrent', noncurrent),
    eventType: type,
    bucket: value.bucket,
    key: value.key,
    ...opt('size', value.size),
    ...opt('etag', value.etag),
    ...opt('contentType', value.contentType),
    batchIndex: 0,
    batchSize: 1,
  };
  return { trigger, deliveryId: id, payload: () => ({ ...value }) };
}
