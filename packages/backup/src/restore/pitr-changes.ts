/**
 * The streamed changes of a replay checked before anything is written, and the last change of
 * each document (the one the apply writes): shared by `pointInTimeRestore` and `restoreStream`.
 */
import { ConfigurationError, RestoreUnsupportedError, type BackupProblem } from '../errors.js';
import type { ManifestDataset } from '../format/manifest.js';
import type { S3Location } from '../s3/client.js';
import type { IndexedObject } from '../stream/objects.js';
import type { StreamRecord } from '../stream/types.js';
import { changeOf, replayObjects } from './replay.js';
import type { ChangeToApply, RestoreTarget } from './targets.js';
import { aggregateOrder, replacesKept, type AggregateOrder } from './change-order.js';

/**
 * Reads every stream object (checked) and every change up to `until` that the apply will write
 * (per batch, only the last change of a document counts, as `applyChanges` does) against the
 * target's limits. Writes nothing. The target must have been prepared. Resolves to the id of
 * each document's last change (`<namespace>\u0000<_id as canonical EJSON>` → event id): the
 * last to arrive, except that of one aggregate's outbox events the highest `seq` is the last
 * (one that arrived after a higher `seq` — an unordered queue — is an older image).
 * @param call the token the target's `prepare` returned for this restore call (`PreparedRestore.call`)
 * @param overSnapshot the objects follow a snapshot's mark: stale records it holds are left out, as the apply leaves them (`replayObjects`)
 * @throws {RestoreUnsupportedError} a change the target cannot store (up to 20 listed)
 */
export async function checkChanges(loc: S3Location, objects: IndexedObject[], target: RestoreTarget, until: number | undefined, signal: AbortSignal | undefined, call?: object, overSnapshot = false): Promise<Map<string, string>> {
  const unsupported: BackupProblem[] = [];
  let unsupportedCount = 0;
  const lastOf = new Map<string, { id: string; order: AggregateOrder | undefined }>();
  await replayObjects(
    loc,
    objects,
    async (records) => {
      // The same batches as the apply, where only the last change of a document counts.
      const last = new Map<string, { id: string; change: ChangeToApply; order: AggregateOrder | undefined }>();
      for (const record of records) {
        const change = changeOf(record);
        if (!change) continue;
        const key = `${change.namespace}\u0000${change.id}`;
        const order = aggregateOrder(record);
        if (replacesKept(order, last.get(key)?.order)) last.set(key, { id: record.id, change, order });
        if (replacesKept(order, lastOf.get(key)?.order)) lastOf.set(key, { id: record.id, order });
      }
      for (const { id, change } of last.values()) {
        if (change.op !== 'upsert' || change.doc === undefined) continue;
        let problem: string | undefined;
        try {
          problem = target.check({ name: change.namespace, kind: 'mongodb-collection' } as ManifestDataset, change.doc, call);
        } catch (error) {
          // The target's refusal of its own options (mongoTarget's collectionName mapping two namespaces to one).
          if (error instanceof ConfigurationError) throw error;
          problem = `cannot be decoded (${(error as Error).name})`;
        }
        if (problem && ++unsupportedCount <= 20) unsupported.push({ key: change.namespace, message: `change ${id}: ${problem}` });
      }
    },
    { ...(until === undefined ? {} : { until }), ...(signal ? { signal } : {}), overSnapshot },
  );
  if (unsupportedCount > 0) throw new RestoreUnsupportedError(`${unsupportedCount} streamed change(s) cannot be stored by the target; nothing was written`, unsupported);
  return new Map([...lastOf].map(([key, { id }]) => [key, id]));
}

/** The changes of `records` that are the last (up to the target time) of their document, from `checkChanges`'s map. */
export function lastChanges(records: StreamRecord[], last: Map<string, string>): ChangeToApply[] {
  const out: ChangeToApply[] = [];
  for (const record of records) {
    const change = changeOf(record);
    if (change && last.get(`${change.namespace}\u0000${change.id}`) === record.id) out.push(change);
  }
  return out;
}
