/**
 * Cloud Functions background functions: the Functions Framework's `event` signature calls
 * `main(data, context)`, with `context` either a legacy event context
 * (`{ eventId, timestamp, eventType, resource }`, also what it makes of a CloudEvent it knows)
 * or, for a binary-mode CloudEvent it does not know, the CloudEvent's own attributes. Both are
 * turned into the CloudEvent the same event would be under the `cloudevent` signature, so the
 * function sees the same trigger either way. The type and resource mappings follow the
 * framework's `background_event_to_cloud_event` middleware and googleapis/google-cloudevents.
 */
import { isRecord, str, type Rec } from '../internal/record.js';

/** Whether `context` is what the framework hands a background function as its second argument. */
export function isBackgroundContext(context: unknown): context is Rec {
  if (!isRecord(context)) return false;
  const legacy = typeof context.eventId === 'string' && typeof context.eventType === 'string';
  const cloudEvent = typeof context.specversion === 'string' && typeof context.id === 'string' && typeof context.type === 'string';
  return legacy || cloudEvent;
}

const STORAGE: Record<string, string> = {
  'google.storage.object.finalize': 'finalized',
  'google.storage.object.delete': 'deleted',
  'google.storage.object.archive': 'archived',
  'google.storage.object.metadataUpdate': 'metadataUpdated',
};
const VERBS: Record<string, string> = { write: 'written', create: 'created', update: 'updated', delete: 'deleted' };
const FIRESTORE = /^providers\/cloud\.firestore\/eventTypes\/document\.(write|create|update|delete)$/;
const RTDB = /^providers\/google\.firebase\.database\/eventTypes\/ref\.(write|create|update|delete)$/;

/** `resource` as text: a string, or the `name` of `{ service, name, type }`. */
function resourceName(resource: unknown): string {
  return typeof resource === 'string' ? resource : isRecord(resource) ? (str(resource.name) ?? '') : '';
}

/** The part of `resource` from `marker` on (`documents/…`, `refs/…`, `objects/…`), without a `#generation` suffix. */
function subjectFrom(resource: string, marker: string): string | undefined {
  const at = resource.indexOf(`/${marker}/`);
  if (at === -1) return undefined;
  const subject = resource.slice(at + 1);
  const hash = marker === 'objects' ? subject.lastIndexOf('#') : -1;
  return hash === -1 ? subject : subject.slice(0, hash);
}

/** The CloudEvent a background call stands for. */
export function backgroundCloudEvent(data: unknown, context: Rec): Rec {
  if (typeof context.specversion === 'string') return { ...context, data };
  const eventType = str(context.eventType) ?? '';
  const resource = resourceName(context.resource);
  const base: Rec = { specversion: '1.0', id: context.eventId, ...(typeof context.timestamp === 'string' ? { time: context.timestamp } : {}) };
  if (eventType === 'google.pubsub.topic.publish' || eventType === 'providers/cloud.pubsub/eventTypes/topic.publish') {
    const message: Rec = isRecord(data) ? { ...data } : { data };
    delete message['@type'];
    message.messageId ??= context.eventId;
    if (typeof context.timestamp === 'string') message.publishTime ??= context.timestamp;
    return { ...base, type: 'google.cloud.pubsub.topic.v1.messagePublished', source: `//pubsub.googleapis.com/${resource}`, data: { message } };
  }
  // A legacy `object.change` is `finalized`, as the framework converts it (a deleted object
  // keeps `resourceState: 'not_exists'`, which the Cloud Storage parser reads as a deletion).
  const storageVerb = eventType === 'providers/cloud.storage/eventTypes/object.change' ? 'finalized' : STORAGE[eventType];
  if (storageVerb) {
    const subject = subjectFrom(resource, 'objects');
    const bucket = /^projects\/[^/]+\/buckets\/[^/]+/.exec(resource)?.[0] ?? resource;
    return { ...base, type: `google.cloud.storage.object.v1.${storageVerb}`, source: `//storage.googleapis.com/${bucket}`, ...(subject ? { subject } : {}), data };
  }
  const firestore = FIRESTORE.exec(eventType);
  if (firestore) {
    const subject = subjectFrom(resource, 'documents');
    const database = subject ? resource.slice(0, resource.length - subject.length - 1) : resource;
    return { ...base, type: `google.cloud.firestore.document.v1.${VERBS[firestore[1]!]}`, source: `//firestore.googleapis.com/${database}`, ...(subject ? { subject } : {}), datacontenttype: 'application/json', data };
  }
  const rtdb = RTDB.exec(eventType);
  if (rtdb) {
    const subject = subjectFrom(resource, 'refs');
    const instance = subject ? resource.slice(0, resource.length - subject.length - 1) : resource;
    return { ...base, type: `google.firebase.database.ref.v1.${VERBS[rtdb[1]!]}`, source: `//firebasedatabase.googleapis.com/${instance}`, ...(subject ? { subject } : {}), data };
  }
  // Any other background event (Firebase Auth, Analytics, Remote Config…): a generic event.
  return { ...base, type: eventType, source: resource || eventType, data };
}
