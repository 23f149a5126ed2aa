/**
 * Amazon DocumentDB change streams on Lambda (event source mapping, `eventSource: 'aws:docdb'`):
 * `{ eventSourceArn, eventSource, events: [{ event }] }`, each `event` a MongoDB change event
 * as the change stream gives it, in MongoDB Extended JSON (`{ $oid }`, `{ $timestamp }`, …):
 * `_id._data` (the resume token), `clusterTime`, `documentKey`, `fullDocument`,
 * `ns: { db, coll }`, `operationType` (AWS Lambda Developer Guide, "Using Lambda with Amazon
 * DocumentDB", Example Amazon DocumentDB event; MongoDB manual, "Change Events").
 *
 * Each event is a `change`: `collection` = `ns.coll` (a database-wide event without one:
 * `ns.db`), `op` from `operationType` (`insert`; `update` and `replace` are `update`; `delete`),
 * `key` = `documentKey`, `sequence` = the resume token, `time` = `clusterTime`'s seconds.
 * `input` is `fullDocument` (an `update` carries it only with the mapping's full document
 * configuration `UpdateLookup`; without it, and for a `delete`, the `documentKey`), still in
 * Extended JSON. `ctx.deliveryId` is `<eventSourceArn>/<_id._data>`. Lambda reads no partial
 * batch answer for this mapping: a failure is thrown (see invokeLambda).
 *
 * A change to a collection or database, not to a document — `drop` (`{ _id, operationType,
 * clusterTime, ns: { db, coll } }`), `rename` (the same with `to: { db, coll }`),
 * `dropDatabase` (`ns: { db }`) and `invalidate` (no `ns`) (MongoDB manual, "Change Events",
 * whose events DocumentDB change streams give) — carries no `documentKey`. It is a `change` too,
 * `op` named as the event names it, no `key`, keyed by its resume token like the others; its
 * `input` is the change event itself (Extended JSON), so `to` of a rename is there. A function
 * watching a collection so sees its drop, instead of a batch that fails on it for ever.
 */
import { isRecord, type Rec } from '../internal/record.js';
import type { ChangeTrigger } from '../types.js';
import { isoFromSeconds, malformed, needRecord, needString, opt, streamDeliveryId, type EventItem } from './item.js';

const OPS: Record<string, ChangeTrigger['op']> = { insert: 'insert', update: 'update', replace: 'update', delete: 'delete' };

/** Changes to a collection or database, which carry no `documentKey`: their `op` is their `operationType`. */
const COLLECTION_OPS: Record<string, ChangeTrigger['op']> = { drop: 'drop', rename: 'rename', dropDatabase: 'dropDatabase', invalidate: 'invalidate' };

/** A DocumentDB change stream event from the Lambda event source mapping. */
export function isDocumentDbEvent(event: Rec): boolean {
  return event.eventSource === 'aws:docdb' && Array.isArray(event.events);
}

/** `clusterTime` as Extended JSON writes a BSON timestamp, `{ $timestamp: { t: <seconds>, i } }`: its seconds as ISO 8601. */
function clusterTime(value: unknown): string | undefined {
  const ts = isRecord(value) && isRecord(value.$timestamp) ? value.$timestamp : undefined;
  return isoFromSeconds(ts?.t);
}

/**
 * The events of one invocation, in order.
 *
 * @throws MalformedEventError when the event has no `events` list, or an entry no `event`,
 *   resume token (`_id._data`) or `operationType`, or a document change (`insert`, `update`,
 *   `replace`, `delete`) no `documentKey` (the whole batch fails). An event whose
 *   `operationType` is neither a document change nor one of `drop`, `rename`, `dropDatabase`,
 *   `invalidate` fails when it runs, with the same typed error: it is reported, never skipped.
 */
export function documentDbItems(event: Rec): EventItem[] {
  if (!Array.isArray(event.events)) throw malformed('DocumentDB event has no events list', 'events', 'a list of change events');
  const events = Array.from(event.events as unknown[]);
  return events.map((raw, index): EventItem => {
    const field = `events.${index}.event`;
    const change = needRecord(needRecord(raw, `events.${index}`, 'a DocumentDB change').event, field, 'a change event');
    const token = needString(isRecord(change._id) ? change._id._data : undefined, `${field}._id._data`, 'the resume token');
    const operationType = needString(change.operationType, `${field}.operationType`);
    const op = OPS[operationType];
    const collectionOp = COLLECTION_OPS[operationType];
    // Only a document change must name its document; an unknown operation fails when it runs (below).
    const key = op ? needRecord(change.documentKey, `${field}.documentKey`, 'the changed document’s key') : isRecord(change.documentKey) ? change.documentKey : undefined;
    const ns = isRecord(change.ns) ? change.ns : {};
    const collection = typeof ns.coll === 'string' ? ns.coll : typeof ns.db === 'string' ? ns.db : '';
    const before = isRecord(change.fullDocumentBeforeChange) ? change.fullDocumentBeforeChange : undefined;
    const trigger: ChangeTrigger = {
      kind: 'change',
      source: 'documentdb',
      collection,
      op: op ?? collectionOp ?? 'update',
      ...opt('key', key),
      sequence: token,
      ...opt('before', before),
      ...opt('time', clusterTime(change.clusterTime)),
      batchIndex: index,
      batchSize: events.length,
    };
    const after = isRecord(change.fullDocument) ? change.fullDocument : undefined;
    const input = collectionOp ? change : op === 'delete' ? (before ?? key) : (after ?? key);
    return {
      trigger,
      deliveryId: streamDeliveryId(event.eventSourceArn, token),
      payload: () => {
        if (!op && !collectionOp) throw malformed('DocumentDB change is not a known change stream operation', `${field}.operationType`, 'insert, update, replace, delete, drop, rename, dropDatabase or invalidate');
        return input;
      },
    };
  });
}
