/**
 * Embedded mode: the outcome "matched nothing" of a request's update, kept apart from the applied
 * keys. A request's updates are numbered per call (`<key>`, `<key>#1`, …); one that matched
 * nothing wrote nothing, so a redelivery would check its filter again — and, should the document
 * match it by then, apply an update the first attempt answered `matched: false` to. When the
 * function returns, each key of an update that matched nothing is added to the document's
 * bounded list of missed keys (`_outboxMissed`): a redelivery's update under that key answers
 * `matched: false` again, writing nothing. Its own list, not the applied one: a miss recorded
 * there took the place of an applied key (`maxAppliedKeys`) — of this very run's, whose update a
 * redelivery then applied again. A document that does not exist keeps nothing (the numbering of
 * the later calls does not depend on it).
 */
import { WriteConflictError } from '../errors.js';
import { FIELDS, type CollectionLike } from '../stores/mongo-shapes.js';
import { serialised, type WriteSerialisation } from './mongo-embedded.js';

const MAX_RACE_RETRIES = 5;

/**
 * Adds `requestKey` to document `id`'s missed keys (`_outboxMissed`, bounded by
 * `maxAppliedKeys`: the oldest miss goes first; the applied keys are not touched), pinned on the
 * list as read and on the key not being applied. Serialised like every write of the document.
 *
 * @returns false when the document does not exist; true when recorded, or the key was there
 *   already (recorded by an earlier attempt, or applied by a concurrent one: kept as it is).
 * @throws WriteConflictError when concurrent writers kept moving the list (nothing recorded).
 */
export async function recordMiss(collection: CollectionLike, id: string, requestKey: string, maxAppliedKeys: number, serialisation: WriteSerialisation, signal?: AbortSignal): Promise<boolean> {
  return serialised(serialisation, `outbox-write:${collection.collectionName}:${id}`, signal, async (writeBy) => {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const doc = await collection.findOne({ _id: id }, { projection: { [FIELDS.applied]: 1, [FIELDS.missed]: 1 } });
      if (doc === null) return false;
      const applied = Array.isArray(doc[FIELDS.applied]) ? (doc[FIELDS.applied] as unknown[]) : [];
      const raw = Array.isArray(doc[FIELDS.missed]) ? (doc[FIELDS.missed] as unknown[]) : undefined;
      if (applied.includes(requestKey) || raw?.includes(requestKey)) return true;
      // FerretDB 1.24 ignores $push's $slice: the bounded list is set whole, pinned as read.
      const update = { $set: { [FIELDS.missed]: [...(raw ?? []), requestKey].slice(-maxAppliedKeys) } };
      if (Date.now() > writeBy) throw new WriteConflictError('outbox: the write lease ran short before the write; nothing was written');
      const result = await collection.updateOne({ _id: id, [FIELDS.missed]: raw ?? { $exists: false }, [FIELDS.applied]: { $ne: requestKey } }, update);
      if (result.matchedCount > 0) return true;
    }
    throw new WriteConflictError('outbox: concurrent writers kept changing this document; retry');
  });
}
