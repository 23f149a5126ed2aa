/**
 * The Azure Blob Storage trigger (`app.storageBlob`): the host hands over the blob's content
 * and, in trigger metadata, `blobTrigger` (`container/name`), `uri` and `properties`. It fires
 * for new and changed blobs, so `op` is `created`. `ctx.deliveryId` is `container/name@<version>`:
 * the host keeps a receipt per blob ETag and runs a blob again only when it changed, so the id
 * names the version — the ETag, or what stands in for it when the host sends none (see `versionOf`).
 */
import { nodeCrypto } from '../internal/crypto.js';
import { isRecord, type Rec } from '../internal/record.js';
import type { StorageObject, StorageTrigger } from '../types.js';
import { malformed, opt, sizeOf, type EventItem } from './item.js';

export function isBlobTriggerMetadata(meta: Rec): boolean {
  return typeof meta.blobTrigger === 'string';
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The blob version the delivery id names. The ETag when the host sends it as text (Storage
 * extension 4.x: `"0x8D…"`). Extension 5.x sends `BlobProperties` (Azure.Storage.Blobs) as
 * Json.NET serialises it: its `ETag`, an `Azure.ETag` struct with no public member, arrives as
 * `{}`. Then the version id (an account with blob versioning: every write makes a new one; `null`
 * without versioning), else the last-modified time (to the second), the size, and the content
 * MD5 when the service keeps one (`contentHash`; 4.x `contentMD5`) — they change when the blob is
 * written again, and stay the same when the host runs one version again. Uploads in blocks
 * (`Put Block List`) often have no MD5: then a SHA-256 of the content the host handed over
 * stands in for it, so two writes within one second of the same size but other bytes are two
 * ids (two writes of the same bytes within one second are one). The id is worked out on its first
 * read (see `blobTriggerItem`), so an invocation that never reads it hashes nothing.
 *
 * Under `dataType: 'string'` the content is text the host decoded (.NET `StreamReader`: each
 * invalid UTF-8 sequence U+FFFD, a byte order mark dropped), hashed as its UTF-8. Two writes
 * within one second, of one size, whose bytes decode to the same text (Latin-1 `café` and `cafè`)
 * are then one id. The invocation id would tell them apart but changes on every host retry of
 * one version, which is far more common, so the text is hashed anyway (documented on
 * `StorageTrigger.content`).
 */
function versionOf(props: Rec, etag: string | undefined, bytes: Buffer | undefined): string {
  if (etag !== undefined) return etag;
  const versionId = text(props.versionId);
  if (versionId !== undefined) return versionId;
  const modified = text(props.lastModified) ?? '';
  const size = sizeOf(props.contentLength) ?? sizeOf(props.length);
  const hash = text(props.contentHash) ?? text(props.contentMD5) ?? (bytes === undefined ? undefined : `sha256:${nodeCrypto().createHash('sha256').update(bytes).digest('base64')}`);
  return [modified, ...(size === undefined ? [] : [String(size)]), ...(hash === undefined ? [] : [hash])].join('/');
}

/** Content handed over as bytes or text, as bytes (text as its UTF-8); undefined for anything else (a value the worker parsed). */
function contentBytes(content: unknown): Buffer | undefined {
  if (Buffer.isBuffer(content)) return content;
  if (content instanceof Uint8Array) return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (content instanceof ArrayBuffer) return Buffer.from(content);
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : undefined;
}

/**
 * The blob trigger's item. `hostContent` is the content as the host sent it (RPC `string` or
 * `bytes`), for when `@azure/functions` handed over a value it parsed (a blob whose text is
 * JSON): the object's `size` is then still the content's byte length when the properties lack
 * one. Without properties' size or content bytes, `size` is absent (never 0 or NaN).
 */
export function blobTriggerItem(content: unknown, meta: Rec, hostContent?: string | Buffer): EventItem {
  const path = typeof meta.blobTrigger === 'string' ? meta.blobTrigger : '';
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw malformed('Blob trigger metadata has no container/name', 'triggerMetadata.blobTrigger', 'container/name');
  const container = path.slice(0, slash);
  const name = path.slice(slash + 1);
  const props = isRecord(meta.properties) ? meta.properties : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const etag = str(props.eTag) ?? str(props.etag);
  const bytes = contentBytes(content) ?? contentBytes(hostContent);
  const object: StorageObject = {
    op: 'created',
    bucket: container,
    key: name,
    ...opt('size', sizeOf(props.contentLength) ?? sizeOf(props.length) ?? bytes?.length),
    ...opt('etag', etag),
    ...opt('contentType', str(props.contentType)),
    // Set only on an account with blob versioning (5.x; `null` otherwise): the version this run is for.
    ...opt('versionId', str(props.versionId)),
    ...opt('time', str(props.lastModified)),
  };
  const trigger: StorageTrigger = {
    kind: 'storage',
    source: 'azure-blob',
    op: 'created',
    eventType: 'BlobTrigger',
    bucket: container,
    key: name,
    ...opt('size', object.size),
    ...opt('etag', etag),
    ...opt('contentType', object.contentType),
    ...opt('content', bytes),
    batchIndex: 0,
    batchSize: 1,
  };
  // Read on first use (idempotency, a log line, a span) and kept: without an ETag, version id or
  // MD5 it hashes the whole content (about 3 ms per MB, blocking), which most runs never need.
  let deliveryId: string | undefined;
  return {
    trigger,
    get deliveryId(): string {
      return (deliveryId ??= `${path}@${versionOf(props, etag, bytes)}`);
    },
    payload: () => ({ ...object }),
  };
}
