/**
 * What a snapshot run does with the multipart uploads its checkpoint left open: a resumed run
 * seals them (checked against `ListParts`) so every record written so far is in a complete
 * object; an abandoned backup (the source changed under a resume) has them aborted and its
 * segments deleted. Apart from run.ts, which only decides when.
 */
import { deleteObject, type S3Location } from '../s3/client.js';
import { abortUpload, completeUpload, listParts } from '../s3/multipart.js';
import type { SnapshotCheckpoint } from './checkpoint.js';

/**
 * Seals the checkpoint's open segments: each upload is checked against `ListParts` and
 * completed with exactly the parts the checkpoint knows (parts S3 holds beyond them — uploaded
 * after the last checkpoint — are left out, which discards them). Every record written so far
 * is then in a complete object, readable by the resumed run (a Redis source reads the keys it
 * already wrote back from it), and the run continues in a new segment. An upload that is gone
 * or differs (aborted, a lifecycle rule) is dropped: its records are read again.
 * Resolves to the number of parts discarded.
 */
export async function reconcile(loc: S3Location, state: SnapshotCheckpoint, serverChecksums: boolean): Promise<number> {
  let stray = 0;
  for (const ds of state.datasets) {
    const current = ds.current;
    if (!current) continue;
    const stored = await listParts(loc, current.key, current.uploadId);
    const byNumber = new Map((stored ?? []).map((p) => [p.number, p]));
    const intact = stored !== undefined && current.parts.every((p) => byNumber.get(p.number)?.etag === p.etag && byNumber.get(p.number)?.size === p.bytes);
    delete ds.current;
    if (!intact || current.parts.length === 0) {
      if (stored) await abortUpload(loc, current.key, current.uploadId);
      continue;
    }
    stray += (stored ?? []).filter((p) => p.number > current.parts.length).length;
    await completeUpload(loc, current.key, current.uploadId, current.parts.map((p) => ({ number: p.number, etag: p.etag, ...(serverChecksums ? { crc32: p.crc32 } : {}) })));
    ds.segments.push({ index: current.index, key: current.key, parts: current.parts });
  }
  return stray;
}

/** Removes what an abandoned backup wrote: open uploads aborted, finished segments deleted (best effort: what stays has no manifest and is not a backup). */
export async function discardBackup(loc: S3Location, state: SnapshotCheckpoint): Promise<void> {
  for (const ds of state.datasets) {
    if (ds.current) await abortUpload(loc, ds.current.key, ds.current.uploadId).catch(() => undefined);
    for (const segment of ds.segments) await deleteObject(loc, segment.key).catch(() => undefined);
  }
}
