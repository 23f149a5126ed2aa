/**
 * The CouchDB / Cloudant changes feed as the OpenWhisk Cloudant package fires it
 * (`/whisk.system/cloudant/changes`): one activation per change, params
 * `{ dbname, id, seq, changes: [{ rev }], deleted? }`, and the document itself under `doc`
 * when the feed includes documents (CouchDB `include_docs=true` row shape).
 *
 * `op` is `insert` for a first revision (`1-…`), `update` for a later one, `delete` for a
 * deletion; `ctx.deliveryId` is `dbname/id@rev` (a revision is one change, whatever `seq`
 * the cluster reports it at); `ctx.trigger.sequence` is `seq`, byte-exact.
 */
import { isRecord, type Rec } from '../internal/record.js';
import type { ChangeTrigger } from '../types.js';
import { idText, malformed, needIdString, needString, type EventItem } from './item.js';

export function isCouchDbChange(params: Rec): boolean {
  return (
    typeof params.id === 'string' &&
    (typeof params.seq === 'string' || typeof params.seq === 'number') &&
    Array.isArray(params.changes) &&
    params.changes.length > 0 &&
    params.changes.every((c) => isRecord(c) && typeof c.rev === 'string')
  );
}

export function couchDbItem(params: Rec): EventItem {
  const id = needIdString(params.id, 'id');
  const first: unknown = Array.isArray(params.changes) ? params.changes[0] : undefined;
  const rev = needString(isRecord(first) ? first.rev : undefined, 'changes.0.rev');
  const deleted = params.deleted === true;
  const doc = isRecord(params.doc) ? params.doc : undefined;
  const generation = /^(\d+)-/.exec(rev)?.[1];
  if (generation === undefined) throw malformed('CouchDB revision is not <generation>-<hash>', 'changes.0.rev', 'a revision such as 1-967a00dff5e02add41819138abb3284d');
  const op: ChangeTrigger['op'] = deleted ? 'delete' : generation === '1' ? 'insert' : 'update';
  const db = typeof params.dbname === 'string' ? params.dbname : '';
  const trigger: ChangeTrigger = { kind: 'change', source: 'couchdb', collection: db, op, key: id, sequence: idText(params.seq), batchIndex: 0, batchSize: 1 };
  // Without the document (the feed's default) the function gets the id and revision to fetch it by.
  const input = doc ?? { _id: id, _rev: rev, ...(deleted ? { _deleted: true } : {}) };
  return { trigger, deliveryId: `${db}/${id}@${rev}`, payload: () => input };
}
