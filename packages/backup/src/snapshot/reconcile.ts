/**
 * What a snapshot run does with the multipart uploads its checkpoint left open: a resumed run
 * seals them (checked against `ListParts`) so every record written so far is in a complete
 * object, or drops the segment (written again) when S3 no longer holds what the checkpoint
 * says; an abandoned backup (the source changed under a resume) has them aborted and its
 * segments deleted. Apart from run.ts, which only decides when.
 */
import { deleteObject, type S3Location } from '../s3/client.js';
import { abortUpload, completeUpload, listParts, type StoredPart } from '../s3/multipart.js';
import { logOf, type LogLike } from '../context.js';
import type { DonePart, SnapshotCheckpoint } from './checkpoint.js';
import { completedSegment } from './completed-segment.js';

const silentLog = logOf(undefined);

/**
 * Seals the checkpoint's open segments: each upload is checked against `ListParts` and
 * completed with exactly the parts the checkpoint knows (parts S3 holds beyond them — uploaded
 * after the last checkpoint — are left out, which discards them). Every record written so far
 * is then in a complete object, readable by the resumed run (a Redis source reads the keys it
 * already wrote back from it), and the run continues in a new segment. The checkpoint's upload
 * is left open by a run stopped at its deadline, killed, or failed by a retryable S3 error
 * (run-failure.ts). An upload that is gone because the run that wrote the checkpoint completed
 * it and was killed before recording it (the object at its key is made of exactly the
 * checkpoint's parts: completed-segment.ts) is kept as the sealed segment, said on `log` (info).
 * One gone otherwise (`NoSuchUpload`: aborted by another client, a lifecycle rule) or whose
 * listed parts differ from the checkpoint's (part number, ETag, size, and CRC32 where the server
 * checked one) is dropped, said on `log`: its records are read again.
 * Resolves to the number of parts discarded.
 */
export async function reconcile(loc: S3Location, state: SnapshotCheckpoint, serverChecksums: boolean, log: LogLike = silentLog): Promise<number> {
  let stray = 0;
  for (const ds of state.datasets) {
    const current = ds.current;
    if (!current) continue;
    const stored = await listParts(loc, current.key, current.uploadId);
    delete ds.current;
    if (current.parts.length === 0) {
      if (stored) await abortUpload(loc, current.key, current.uploadId);
      continue;
    }
    // Gone: completed by the run that wrote the checkpoint (killed before recording it), or aborted.
    const found = stored === undefined ? await completedSegment(loc, current.key, current.parts) : undefined;
    if (found === 'completed') {
      log.info(`snapshot job "${state.job}": segment ${current.index} of ${ds.name} was completed by an earlier run of this backup that stopped before its checkpoint recorded it; the object (its ${current.parts.length} checkpointed parts) is kept`, { backupId: state.backupId, dataset: ds.name, segment: current.index });
      ds.segments.push({ index: current.index, key: current.key, parts: current.parts });
      continue;
    }
    const differs = stored === undefined ? undefined : firstDifference(current.parts, stored, serverChecksums);
    if (stored === undefined || differs !== undefined) {
      if (stored) await abortUpload(loc, current.key, current.uploadId);
      const gone =
        found === 'other'
          ? 'its multipart upload no longer exists and the object at its key is not made of the checkpoint\'s parts (size or bytes differ)'
          : 'its multipart upload no longer exists and no object was completed from it (NoSuchUpload: aborted by another client or a lifecycle rule)';
      const why = stored === undefined ? gone : `S3 lists its part ${differs} otherwise than the checkpoint (ETag, size or checksum)`;
      log.warn(`snapshot job "${state.job}": segment ${current.index} of ${ds.name} is written again from its first part: ${why}`, { backupId: state.backupId, dataset: ds.name, segment: current.index, partsLost: current.parts.length });
      continue;
    }
    stray += stored.filter((p) => p.number > current.parts.length).length;
    await completeUpload(loc, current.key, current.uploadId, current.parts.map((p) => ({ number: p.number, etag: p.etag, ...(serverChecksums ? { crc32: p.crc32 } : {}) })));
    ds.segments.push({ index: current.index, key: current.key, parts: current.parts });
  }
  return stray;
}

/** The number of the first checkpoint part S3 does not list as the checkpoint says, if any. */
function firstDifference(parts: ReadonlyArray<DonePart>, stored: ReadonlyArray<StoredPart>, serverChecksums: boolean): number | undefined {
  const byNumber = new Map(stored.map((p) => [p.number, p]));
  for (const p of parts) {
    const listed = byNumber.get(p.number);
    if (listed?.etag !== p.etag || listed.size !== p.bytes) return p.number;
    // Only an upload that sent our CRC32 has one the server checked; other servers may list none.
    if (serverChecksums && listed.crc32 !== undefined && listed.crc32 !== p.crc32) return p.number;
  }
  return undefined;
}

/** Removes what an abandoned backup wrote: open uploads aborted, finished segments deleted (best effort: what stays has no manifest and is not a backup). */
export async function discardBackup(loc: S3Location, state: SnapshotCheckpoint): Promise<void> {
  for (const ds of state.datasets) {
    if (ds.current) await abortUpload(loc, ds.current.key, ds.current.uploadId).catch(() => undefined);
    for (const segment of ds.segments) await deleteObject(loc, segment.key).catch(() => undefined);
  }
}
