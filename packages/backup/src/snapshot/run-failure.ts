/**
 * What a failed snapshot run leaves of its open multipart uploads. A retryable S3 failure
 * (s3/retryable.ts: throttling, a 5xx, a reset connection — the SDK's own retries spent) leaves
 * them as the deadline does: open, named in the checkpoint with the parts S3 acknowledged, so
 * the next invocation continues after them (reconcile.ts checks them against `ListParts` first).
 * Any other failure aborts them (S3 discards their parts): a terminal S3 error (`AccessDenied`,
 * `NoSuchBucket`, a checksum refused), the source's failure, our own refusals. A job that is
 * never run again leaves its checkpoint behind, and retention aborts its uploads once that
 * checkpoint counts as abandoned (`abandonedCheckpointMs`; retention-orphans.ts), as it does
 * for a run stopped at its deadline. Apart from run.ts, which only decides when.
 */
import type { ChainedObject } from '../s3/chained-object.js';
import type { S3Location } from '../s3/client.js';
import { abortUpload } from '../s3/multipart.js';
import { isRetryableS3Failure } from '../s3/retryable.js';
import type { SnapshotCheckpoint } from './checkpoint.js';

/**
 * Keeps the open uploads of `state` that hold acknowledged parts for the next run when `error`
 * is a retryable S3 failure and the checkpoint naming them is saved (`'kept'`); otherwise aborts
 * them, best effort, and saves the checkpoint without them (`'aborted'`). An upload with no part
 * yet is aborted either way (nothing to continue), and so is one whose keeping cannot be
 * recorded (the stored checkpoint might not name it: nothing would resume it). Resolves to
 * `'none'` when no upload was open. Never rejects.
 */
export async function settleUploads(loc: S3Location, state: SnapshotCheckpoint, checkpoint: ChainedObject<SnapshotCheckpoint>, error: unknown): Promise<'kept' | 'aborted' | 'none'> {
  if (!state.datasets.some((ds) => ds.current)) return 'none';
  const keep = isRetryableS3Failure(error);
  await abortWhere(loc, state, (parts) => !keep || parts === 0);
  if (keep && state.datasets.some((ds) => ds.current)) {
    state.updatedAt = new Date().toISOString();
    const saved = await checkpoint.save(state).then(
      () => true,
      () => false,
    );
    if (saved) return 'kept';
  }
  await abortWhere(loc, state, () => true);
  await checkpoint.save(state).catch(() => undefined);
  return 'aborted';
}

/** Aborts (best effort) and forgets the open uploads whose count of finished parts `drop` picks. */
async function abortWhere(loc: S3Location, state: SnapshotCheckpoint, drop: (parts: number) => boolean): Promise<void> {
  for (const ds of state.datasets) {
    if (!ds.current || !drop(ds.current.parts.length)) continue;
    await abortUpload(loc, ds.current.key, ds.current.uploadId).catch(() => undefined);
    delete ds.current;
  }
}
