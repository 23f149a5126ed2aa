/**
 * Azure Cosmos DB trigger (`app.cosmosDB`): a list of changed documents from the change feed.
 * In latest-version mode each document is the item as it is now, with system properties
 * (`id`, `_rid`, `_etag`, `_ts`, `_lsn`); inserts and updates look the same (`op: 'upsert'`)
 * and deletes are not delivered. In all-versions-and-deletes mode each entry is
 * `{ current, previous?, metadata: { operationType, lsn, crts } }` and `op` is exact; a delete
 * carries no item at all, only `metadata.id` and `metadata.partitionKey` (Azure Cosmos DB docs
 * "Change feed modes", All versions and deletes mode, "Parse the response object"), so its
 * input is `{ ...partitionKey, id }` unless a `previous` image came along.
 * `ctx.deliveryId` is `<account>/<database>/<container>/<_rid>@<lsn>` (see `cosmosItems`).
 */
import { isRecord, setOwn, type Rec } from '../internal/record.js';
import type { ChangeTrigger } from '../types.js';
import { idText, isoFromSeconds, malformed, opt, streamDeliveryId, type EventItem } from './item.js';

export function isCosmosDocumentList(trigger: unknown): boolean {
  return Array.isArray(trigger) && trigger.length > 0 && trigger.every((d) => isRecord(d) && (('_lsn' in d && typeof d.id === 'string') || isRecord(d.metadata)));
}

const OPS: Record<string, ChangeTrigger['op']> = { create: 'insert', replace: 'update', delete: 'delete' };

/**
 * Whether a change feed entry is in the all-versions-and-deletes shape: `metadata` beside
 * `current` / `previous`, or — a delete, which has neither — `metadata.operationType` on an
 * entry without the `_lsn` every latest-version document has.
 */
function isFullFidelity(raw: Rec): boolean {
  if (!isRecord(raw.metadata)) return false;
  return 'current' in raw || 'previous' in raw || (!('_lsn' in raw) && typeof raw.metadata.operationType === 'string');
}

/** What is known of an item deleted in all-versions-and-deletes mode: its partition key values and id. */
function deletedItem(id: string, partitionKey: unknown): Rec {
  const out: Rec = {};
  if (isRecord(partitionKey)) for (const [name, value] of Object.entries(partitionKey)) setOwn(out, name, value);
  setOwn<unknown>(out, 'id', id);
  return out;
}

/** JSON with object keys sorted at every level: one text per value, whatever order the keys came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/**
 * Which document a change is of, unique in its container: the document's `_rid` (its resource
 * id, unique per document in the container, unlike `id`, which is unique only per partition key
 * value), from `current` or else `previous`; for an all-versions-and-deletes delete that carries
 * neither, the canonical JSON of `[metadata.partitionKey, id]`; failing both (a hand-built
 * document without `_rid`), the `id`.
 */
function documentIdentity(doc: Rec | undefined, id: string, meta: Rec): string {
  if (doc && typeof doc._rid === 'string' && doc._rid !== '') return doc._rid;
  if (!doc && isRecord(meta.partitionKey)) return canonicalJson([meta.partitionKey, id]);
  return id;
}

/**
 * @param container - the trigger's container, `ctx.trigger.collection`.
 * @param scope - where the container lives, `<account>/<database>/<container>` (the adapter
 *   names the account): a document's `_rid` and its `_lsn` repeat across containers and
 *   accounts, so the delivery id is `<scope>/<_rid>@<lsn>`; without one, `<_rid>@<lsn>`. Not the
 *   `id`: two documents with one `id` under two partition key values (two tenants' `settings`)
 *   can change at one `_lsn` (it counts per physical partition) — see `documentIdentity`.
 *   `ctx.trigger.key` stays the `id`; the partition key is in the document (`input`).
 */
export function cosmosItems(documents: unknown, container: string, scope?: string): EventItem[] {
  if (!Array.isArray(documents)) throw malformed('Cosmos DB trigger input is not a list of documents', 'documents', 'a list of documents');
  return Array.from(documents).map((raw, index): EventItem => {
    const field = `documents.${index}`;
    if (!isRecord(raw)) throw malformed('Cosmos DB change is not a document', field, 'a document');
    const fullFidelity = isFullFidelity(raw);
    const meta: Rec = fullFidelity ? (raw.metadata as Rec) : {};
    const current = fullFidelity ? (isRecord(raw.current) ? raw.current : undefined) : raw;
    const previous = fullFidelity && isRecord(raw.previous) ? raw.previous : undefined;
    const doc = current ?? previous;
    // A delete names the item only in its metadata.
    const id = doc && typeof doc.id === 'string' ? doc.id : typeof meta.id === 'string' ? meta.id : undefined;
    if (id === undefined) throw malformed('Cosmos DB document has no id', `${field}.id`, 'string');
    const lsn = idText(fullFidelity ? meta.lsn : raw._lsn) ?? idText(doc?._lsn);
    const operation = typeof meta.operationType === 'string' ? meta.operationType.toLowerCase() : undefined;
    const op: ChangeTrigger['op'] = operation ? (OPS[operation] ?? 'upsert') : 'upsert';
    // `crts`, the conflict-resolved time, has the format of `_ts`.
    const ts = isoFromSeconds(doc?._ts) ?? isoFromSeconds(meta.crts);
    const trigger: ChangeTrigger = {
      kind: 'change',
      source: 'cosmosdb',
      collection: container,
      op,
      key: id,
      sequence: lsn,
      ...opt('before', previous),
      ...opt('time', ts),
      // All-versions-and-deletes tells a TTL expiry from an explicit delete.
      ...(op === 'delete' && meta.timeToLiveExpired === true ? { expired: true as const } : {}),
      batchIndex: index,
      batchSize: documents.length,
    };
    const etag = doc && typeof doc._etag === 'string' ? doc._etag : undefined;
    const input = op === 'delete' ? (previous ?? deletedItem(id, meta.partitionKey)) : current;
    return { trigger, deliveryId: streamDeliveryId(scope, `${documentIdentity(doc, id, meta)}@${lsn ?? etag ?? ''}`), payload: () => input };
  });
}
