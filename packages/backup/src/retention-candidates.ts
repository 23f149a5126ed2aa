/**
 * What a retention pass reads of the backups under `backups/`: pages of ids, each backup as the
 * policy sees it (`readCandidate`: manifest, verification, end time), the stream marks other
 * jobs' backups hold (`holdFor`), the line's manifest for the stream's prune, and whether the
 * kept backups still stand. The pass itself runs in retention-pass-run.ts.
 */
import { BackupNotFoundError } from './errors.js';
import type { DeleteBudget } from './retention-budget.js';
import { damagedVerificationRecord, isDamage, type DamagedVerificationRecord } from './retention-damaged.js';
import type { Manifest } from './format/manifest.js';
import { headObject, listPage, type S3Location } from './s3/client.js';
import { loadManifest } from './restore/load.js';
import { keys } from './target.js';
import { readVerification } from './verify/record.js';

/** A backup as the policy sees it. */
export interface Candidate {
  id: string;
  manifest: Manifest;
  verified: boolean;
  endedAt: number;
  /**
   * Its verification record is damaged (not JSON, another shape): the backup is held — never
   * deleted, never the newest verified backup or the point-in-time base, not counted when the
   * line of the policy's deletes is drawn — and reported in `damaged` (`verified` is false).
   */
  held?: DamagedVerificationRecord;
}

/** A page of backup ids (S3's order) after `after` (`StartAfter` past every key under it), and whether more follow. */
export async function backupIdsPage(loc: S3Location, after: string, signal?: AbortSignal): Promise<{ ids: string[]; more: boolean }> {
  const root = keys.backupsRoot(loc);
  // Past every key under `after/` (ASCII keys), and before the next id: each page by StartAfter,
  // not by continuation token (gofakes3 repeats the last common prefix of a page after a token).
  const page = await listPage(loc, root, { delimiter: '/', ...(after ? { startAfter: `${root}${after}/\uffff` } : {}), ...(signal ? { signal } : {}) });
  return { ids: page.prefixes.map((p) => p.slice(root.length, -1)).filter((id) => id > after), more: page.next !== undefined };
}

/**
 * Reads one listed id: `uncommitted` without a manifest, `skip` for a damaged or newer-format
 * manifest (neither kept nor cleaned) or another job's backup, `stopped` when `signal` aborted
 * the read of its manifest or verification record (the invocation is ending, at its deadline or
 * otherwise: nothing is known of the backup, and the caller stops the run as the budget does
 * for a signal), else the
 * candidate (`held`, not verified, when its verification record is damaged: retention-damaged.ts). `other` is given the manifest of another job's backup (retention of one `job`
 * never deletes it, and the stream objects past its start mark stay: see `holdFor`);
 * `unreadable` is called for a manifest that cannot be read (damaged, a newer format, a failed
 * read — not one the signal aborted): the stream is then not pruned (retention-holds.ts).
 */
export async function readCandidate(loc: S3Location, id: string, job: string | undefined, signal?: AbortSignal, other?: (manifest: Manifest) => void, unreadable?: () => void): Promise<Candidate | 'uncommitted' | 'skip' | 'stopped'> {
  const manifest = await loadManifest(loc, id, signal).catch((error: unknown) => (error instanceof BackupNotFoundError ? null : undefined));
  if (manifest === null) return 'uncommitted';
  if (!manifest) {
    // A read the signal cut says nothing of the manifest: not a damaged backup.
    if (signal?.aborted) return 'stopped';
    unreadable?.();
    return 'skip';
  }
  if (job !== undefined && manifest.job !== job) {
    other?.(manifest);
    return 'skip';
  }
  let verification;
  try {
    verification = await readVerification(loc, id, signal);
  } catch (error) {
    // Its verification record's read cut by the signal: a stop too (the run is ending), not a failure.
    if (signal?.aborted) return 'stopped';
    // Damaged (outside bytes, until someone repairs it): the backup is held, the run goes on. A failed read still stops it.
    if (isDamage(error)) return { id, manifest, verified: false, endedAt: Date.parse(manifest.end.time), held: damagedVerificationRecord(loc, id, keys.verification(loc, id), error) };
    throw error;
  }
  return { id, manifest, verified: verification?.ok === true, endedAt: Date.parse(manifest.end.time) };
}

/** A position in a stream: a timeline and an object number in it (a snapshot's start mark). */
export interface StreamMark {
  timeline: number;
  seq: number;
}

/**
 * The older of `held` and the start mark `manifest` (another job's backup, or a kept one) has
 * on `stream`: retention of one `job` prunes `stream` only below every other job's backup on it
 * — verified or not, since that job's own retention decides whether it is kept — so a
 * point-in-time restore from another job's kept snapshot still has the stream objects it
 * replays; and below every backup it keeps, since snapshots of two jobs can overlap (one that
 * ended after the oldest kept one may have started before it).
 */
export function holdFor(held: StreamMark | null, manifest: Manifest, stream: string | null | undefined): StreamMark | null {
  const mark = manifest.start.stream;
  if (stream === null || stream === undefined || !mark || mark.name !== stream) return held;
  const older = !held || mark.timeline < held.timeline || (mark.timeline === held.timeline && mark.seq < held.seq);
  return older ? { timeline: mark.timeline, seq: mark.seq } : held;
}

/** A verified candidate as the summary holds it. */
export function entryOf(c: Candidate): { id: string; endedAt: number; stream: string | null } {
  return { id: c.id, endedAt: c.endedAt, stream: c.manifest.start.stream?.name ?? null };
}

/**
 * The manifest of the pass's line (the oldest backup it keeps), for the stream's prune:
 * undefined when it is gone, damaged or another job's (no prune this pass), `stopped` when the
 * signal cut its read.
 */
export async function lineManifest(loc: S3Location, id: string, job: string | undefined, signal?: AbortSignal): Promise<Manifest | undefined | 'stopped'> {
  const manifest = await loadManifest(loc, id, signal).catch(() => undefined);
  if (!manifest) return signal?.aborted ? 'stopped' : undefined;
  return job !== undefined && manifest.job !== job ? undefined : manifest;
}

/**
 * The summary's kept backups still have their manifest and are still verified. Each read (a
 * manifest HEAD, a verification record GET) is asked of `budget` first, as one more page of
 * `backups/` (`keepLast` can be large): `stopped` when it refused one, or when the signal cut a
 * read (not a changed backup: the pass must not restart on it); false when one is gone, no
 * longer verified, or its record is damaged or unreadable.
 */
export async function keptStillStand(loc: S3Location, kept: Array<{ id: string }>, budget: DeleteBudget, signal?: AbortSignal): Promise<boolean | 'stopped'> {
  const root = keys.backupsRoot(loc);
  for (const { id } of kept) {
    if (!budget.allowsPage(root)) return 'stopped';
    if (!(await headObject(loc, keys.manifest(loc, id), signal))) return false;
    if (!budget.allowsPage(root)) return 'stopped';
    // A record damaged since the summary was drawn (or a failed read): no longer known verified,
    // so the pass starts again, and the new one holds that backup (`readCandidate`).
    const verification = await readVerification(loc, id, signal).catch(() => undefined);
    if (signal?.aborted) return 'stopped';
    if (verification?.ok !== true) return false;
  }
  return true;
}
