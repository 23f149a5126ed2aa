/**
 * Embedded mode: the outcome "matched nothing" of a request's update, kept like an applied one.
 * A request's updates are numbered per call (`<key>`, `<key>#1`, …); one that matched nothing
 * wrote nothing, so a redelivery would check its filter again — and, should the document match
 * it by then, apply an update the first attempt answered `matched: false` to. When the function
 * returns, each key of an update that matched nothing is added to the document's applied-key
 * list with {@link NOT_MATCHED} as its answer: a redelivery's update under that key answers
 * `matched: false` again, writing nothing. A document that does not exist keeps nothing (the
 * numbering of the later calls does not depend on it).
 */
import { WriteConflictError } from '../errors.js';
import { FIELDS, NOT_MATCHED, answerField, type CollectionLike } from '../stores/mongo-shapes.js';
import { serialised, type WriteSerialisation } from './mongo-embedded.js';

const MAX_RACE_RETRIES = 5;

/**
 * Adds `requestKey` to document `id`'s applied keys (bounded by `maxAppliedKeys`, as an applied
 * update does: an evicted key's answer goes with it) with the answer {@link NOT_MATCHED}, pinned
 * on the list as read. Serialised like every write of the document.
 *
 * @returns false when the document does not exist; true when recorded, or the key was there
 *   already (recorded by an earlier attempt, or applied by a concurrent one: kept as it is).
 * @throws WriteConflictError when concurrent writers kept moving the list (nothing recorded).
 */
export async function recordMiss(collection: CollectionLike, id: string, requestKey: string, maxAppliedKeys: number, serialisation: WriteSerialisation, signal?: AbortSignal): Promise<boolean> {
  return serialised(serialisation, `outbox-write:${collection.collectionName}:${id}`, signal, async (writeBy) => {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const doc = await collection.findOne({ _id: id }, { projection: { [FIELDS.applied]: 1 } });
      if (doc === null) return false;
      const raw = Array.isArray(doc[FIELDS.applied]) ? (doc[FIELDS.applied] as unknown[]) : undefined;
      if (raw?.includes(requestKey)) return true;
      const all = [...(raw ?? []), requestKey];
      const update: Record<string, Record<string, unknown>> = { $set: { [FIELDS.applied]: all.slice(-maxAppliedKeys), [`${FIELDS.answers}.${answerField(requestKey)}`]: NOT_MATCHED } };
      for (const evicted of all.slice(0, Math.max(0, all.length - maxAppliedKeys))) (update.$unset ??= {})[`${FIELDS.answers}.${answerField(String(evicted))}`] = '';
      if (Date.now() > writeBy) throw new WriteConflictError('outbox: the write lease ran short before the write; nothing was written');
      const result = await collection.updateOne({ _id: id, [FIELDS.applied]: raw ?? { $exists: false } }, update);
      if (result.matchedCount > 0) return true;
    }
    throw new WriteConflictError('outbox: concurrent writers kept changing this document; retry');
  });
}
