/**
 * Azure Event Grid events, in the Event Grid schema (`eventType`, `subject`, `eventTime`,
 * `data`, `dataVersion`) and the CloudEvents 1.0 schema (`specversion`, `type`, `source`):
 * blob events (type `Microsoft.Storage.BlobCreated`, `BlobDeleted` or `BlobTierChanged` with
 * object `data`, see `BLOB_OPS`) become `storage` items, anything else (other Storage events such
 * as `BlobRenamed` included) a `notification` item, one per event.
 *
 * A blob's container and name are read from the subject
 * `/blobServices/default/containers/<container>/blobs/<name>`, which carries the blob name as it
 * is (not percent-encoded: Microsoft documents the format as `…/blobs/<blobname>`, and an event for
 * a blob with a space or an emoji in its name has those characters in the subject). `data.url` is
 * a URL, its path percent-encoded, so it is decoded; it is the source only when the subject does
 * not name a blob or holds U+FFFD (a name the subject's sender could not encode).
 *
 * A notification's delivery id is `<topic>#<id>` (CloudEvents schema: `<source>#<id>`), the id
 * escaped as {@link scopedDeliveryId} does: whoever publishes to a topic chooses the `id`, so
 * two topics feeding one function may send the same one; Event Grid stamps the topic, which the
 * publisher cannot set. A blob event (a `storage` item, above) keeps its bare `id`, which Azure
 * Storage generates (a GUID-form request id), as a Cloud Storage event keeps its own; any other
 * Storage event is a notification and is keyed `<topic>#<id>` like the rest.
 */
import { isRecord, type Rec } from '../internal/record.js';
import { anyPayload, bytesPayload } from '../message.js';
import { decodeBase64Strict } from '../internal/base64.js';
import type { NotificationTrigger, StorageObject, StorageTrigger } from '../types.js';
import { malformed, needIdString, needString, opt, rawBase64, rawBodyOf, scopedDeliveryId, sizeOf, stringMap, withRawBody, type EventItem, type ParseOptions } from './item.js';

const BLOB_OPS: Record<string, StorageObject['op']> = {
  'Microsoft.Storage.BlobCreated': 'created',
  'Microsoft.Storage.BlobDeleted': 'deleted',
  'Microsoft.Storage.BlobTierChanged': 'updated',
};

/** Whether a value is one Event Grid event in either schema. */
export function isEventGridEvent(value: unknown): value is Rec {
  if (!isRecord(value) || typeof value.id !== 'string') return false;
  const gridSchema = typeof value.eventType === 'string' && typeof value.subject === 'string' && 'data' in value && (typeof value.eventTime === 'string' || typeof value.dataVersion === 'string');
  const cloudEvent = typeof value.specversion === 'string' && typeof value.type === 'string' && typeof value.source === 'string';
  return gridSchema || cloudEvent;
}

/**
 * The ports at which a storage endpoint names its account in the first path segment even when
 * its host is a name (Azurite and the other emulators: http://azurite:10000/devstoreaccount1/…).
 * The list every Azure Storage SDK uses (PathStylePorts in @azure/storage-blob's constants).
 */
const PATH_STYLE_PORTS = new Set(['10000', '10001', '10002', '10003', '10004', '10100', '10101', '10102', '10103', '10104', '11000', '11001', '11002', '11003', '11004', '11100', '11101', '11102', '11103', '11104']);

/**
 * Whether a blob URL is path-style (`/<account>/<container>/<blob>`), by the Azure Storage SDKs'
 * rule (`isIpEndpointStyle` of @azure/storage-blob): an IPv4 or IPv6 host, `localhost` or
 * `host.docker.internal`, or a path-style port. Otherwise the account is in the host name.
 */
function pathStyle(url: URL): boolean {
  const host = url.hostname;
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host === 'localhost' || host === 'host.docker.internal' || PATH_STYLE_PORTS.has(url.port);
}

const BLOB_SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/s;

/** Container and name from `data.url`: the path after the account, each segment percent-decoded. */
function fromUrl(value: unknown): { container: string; name: string } | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    const parts = url.pathname.split('/').slice(1);
    const offset = pathStyle(url) ? 1 : 0;
    const container = parts[offset];
    const name = parts.slice(offset + 1).map(decodeURIComponent).join('/');
    return container && name ? { container: decodeURIComponent(container), name } : undefined;
  } catch {
    return undefined; // not a URL, or a path that is not valid percent-encoding
  }
}

function blobLocation(data: Rec, subject: string | undefined, field: string): { container: string; name: string } {
  const match = BLOB_SUBJECT.exec(subject ?? '');
  // The subject holds the name as it is, with no encoding to undo: the first choice.
  if (match && !match[2]!.includes('\uFFFD')) return { container: match[1]!, name: match[2]! };
  const url = fromUrl(data.url);
  if (url) return url;
  if (match) return { container: match[1]!, name: match[2]! };
  throw malformed('Blob event names no blob (data.url or subject)', field, 'data.url or subject /blobServices/default/containers/<c>/blobs/<name>');
}

/** One Event Grid event as an item. */
export function eventGridItem(event: Rec, options: ParseOptions, index = 0, size = 1, field = ''): EventItem {
  const at = (name: string): string => (field ? `${field}.${name}` : name);
  const cloudEvent = typeof event.specversion === 'string';
  const id = needIdString(event.id, at('id'));
  const type = needString(cloudEvent ? event.type : event.eventType, at(cloudEvent ? 'type' : 'eventType'));
  const subject = typeof event.subject === 'string' ? event.subject : undefined;
  const time = typeof (cloudEvent ? event.time : event.eventTime) === 'string' ? ((cloudEvent ? event.time : event.eventTime) as string) : undefined;
  const topic = typeof (cloudEvent ? event.source : event.topic) === 'string' ? ((cloudEvent ? event.source : event.topic) as string) : '';
  const blobOp = BLOB_OPS[type];
  if (blobOp && isRecord(event.data)) {
    const data = event.data;
    const { container, name } = blobLocation(data, subject, at('data.url'));
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    const object: StorageObject = {
      op: blobOp,
      bucket: container,
      key: name,
      ...opt('size', sizeOf(data.contentLength)),
      ...opt('etag', str(data.eTag)),
      ...opt('contentType', str(data.contentType)),
      ...opt('time', time),
    };
    const trigger: StorageTrigger = {
      kind: 'storage',
      source: 'azure-event-grid',
      op: blobOp,
      eventType: type,
      bucket: container,
      key: name,
      ...opt('size', object.size),
      ...opt('etag', object.etag),
      ...opt('contentType', object.contentType),
      batchIndex: index,
      batchSize: size,
    };
    return { trigger, deliveryId: id, payload: () => ({ ...object }) };
  }
  // CloudEvents extension attributes (anything beyond the spec's own) as string attributes.
  const attributes = cloudEvent ? stringMap(Object.fromEntries(Object.entries(event).filter(([k]) => !CE_FIELDS.has(k)))) : {};
  const trigger: NotificationTrigger = {
    kind: 'notification',
    source: 'event-grid',
    topic,
    messageId: id,
    type,
    ...opt('subject', subject),
    ...opt('time', time),
    attributes,
    batchIndex: index,
    batchSize: size,
  };
  const base64 = event.data === undefined && typeof event.data_base64 === 'string' ? event.data_base64 : undefined;
  // `data` that is JSON inside the event has no text of its own; a string or `data_base64` has.
  withRawBody(trigger, () => (base64 === undefined ? rawBodyOf(event.data) : rawBase64(base64)));
  return {
    trigger,
    // The publisher chooses the id (CloudEvents: unique only within its `source`); the topic is
    // stamped by Event Grid. A hand-built event without one keeps the bare id.
    deliveryId: topic === '' ? id : scopedDeliveryId(topic, id),
    payload: () => {
      if (base64 === undefined) return anyPayload(event.data, options.body, { field: at('data'), declaredJson: true });
      const bytes = decodeBase64Strict(base64);
      if (!bytes) throw malformed('CloudEvent data_base64 is not base64', at('data_base64'), 'base64 text');
      return bytesPayload(bytes, options.body, { field: at('data_base64') });
    },
  };
}

const CE_FIELDS = new Set(['id', 'source', 'specversion', 'type', 'datacontenttype', 'dataschema', 'subject', 'time', 'data', 'data_base64']);

/** An Event Grid trigger's argument: one event, or a list of them. */
export function eventGridItems(trigger: unknown, options: ParseOptions): EventItem[] {
  if (Array.isArray(trigger)) {
    return Array.from(trigger).map((event, i) => {
      if (!isEventGridEvent(event)) throw malformed('Not an Event Grid event', String(i), 'an Event Grid or CloudEvents event');
      return eventGridItem(event, options, i, trigger.length, String(i));
    });
  }
  if (!isEventGridEvent(trigger)) throw malformed('Not an Event Grid event', '', 'an Event Grid or CloudEvents event');
  return [eventGridItem(trigger, options)];
}
