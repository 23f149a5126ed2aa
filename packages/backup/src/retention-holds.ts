/**
 * What holds back retention's prune of a stream besides the backups it keeps: snapshots that
 * are still running (their job checkpoint, `jobs/<job>/checkpoint.json`) and backups whose
 * manifest cannot be read. A running snapshot has no manifest yet; when it commits, its
 * point-in-time restore replays the stream from the start mark it read when it began, so
 * pruning below that mark in the meantime would break it (`StreamPrunedError`).
 *
 * **Order, and why it is enough.** Retention reads, before it reads any manifest:
 * 1. the stream's position (its checkpoint) — `now`;
 * 2. every job checkpoint: a start mark on the stream holds the prune at that mark; a
 *    snapshot whose mark is not read yet (`streamPending`: it saves its checkpoint before it
 *    reads the stream's position) or a checkpoint that cannot be read holds back the whole
 *    prune (`leftAlone`).
 * It then prunes only below the oldest of: every kept backup's start mark, other jobs'
 * backups' marks (with `job`), the running snapshots' marks and `now`. A snapshot that needs
 * an object below that line read its mark before step 1 (the stream only moves forward), so
 * it saved its checkpoint before step 2: step 2 sees it still running, or it had committed
 * before it — its manifest then exists before the manifests are read, and its mark holds the
 * prune as any backup's does (a manifest that cannot be read holds back the whole prune,
 * since whose and from where is unknown). A snapshot starting later reads a mark at or past
 * `now`, which the prune stays below.
 *
 * With `job`, a snapshot of that job starting does not hold the prune back: the job's runs
 * follow one another (its lease), so it began after the job's last commit and reads a mark at
 * or past every mark of the job's backups, the oldest kept one's included.
 */
import { readStreamCheckpoint, type StreamCheckpoint } from './stream/checkpoint.js';
import { keys } from './target.js';
import { damagedStreamCheckpoint, isDamage, type DamagedStreamCheckpoint } from './retention-damaged.js';
import type { S3Location } from './s3/client.js';
import type { DeleteBudget } from './retention-budget.js';
import { listJobCheckpoints } from './retention-checkpoints.js';

/** A position in a stream: a timeline and an object number in it. */
export interface HeldMark {
  timeline: number;
  seq: number;
}

/**
 * Why retention left a stream unpruned in a run: `snapshot starting` (a job's snapshot saved
 * its checkpoint and has not read the stream's position yet), `job checkpoint unreadable` (one
 * under `jobs/` is damaged: it may be a running snapshot of any position), `manifest
 * unreadable` (a backup's manifest is damaged, of a newer format or could not be read: whose it
 * is and from where it replays the stream is unknown; a read the run's signal aborted is not
 * one — the run stops with `stoppedBy: 'signal'`). The next run prunes once it is gone.
 */
export interface StreamPruneLeftAlone {
  stream: string;
  reason: 'snapshot starting' | 'job checkpoint unreadable' | 'manifest unreadable';
  /** The job of the starting snapshot. */
  job?: string;
  /** The starting snapshot's backup id, or the id whose manifest cannot be read. */
  backupId?: string;
}

/**
 * The line the prune stays below (`held`), and what holds it back whole (`leftAlone`, empty
 * when nothing does). With the stream's checkpoint damaged, `damaged` says so and `held` is the
 * stream's very start (timeline 1, object 0): nothing of it is below that line.
 */
export interface StreamHolds {
  held: HeldMark;
  leftAlone: StreamPruneLeftAlone[];
  damaged?: DamagedStreamCheckpoint;
}

/** The older of two marks. */
export function olderMark(a: HeldMark, b: HeldMark): HeldMark {
  return a.timeline < b.timeline || (a.timeline === b.timeline && a.seq <= b.seq) ? a : b;
}

/**
 * Reads what holds the prune of `stream` back, in the order the module comment gives: call
 * it before reading any manifest. Resolves to undefined when `gate` refused a page of the
 * `jobs/` listing or the read of a checkpoint (the run is stopping: it prunes nothing, as it
 * never prunes on part of the holds).
 * @param job - Retention's `job`: a snapshot of that job starting does not hold the prune back (see above).
 * A damaged stream checkpoint (not JSON, another shape or format version) is not thrown: where
 * the stream stands is unknown, so the prune is held at its start (`damaged`, see above).
 * @throws the read's own error when the stream's checkpoint could not be read (a failed or aborted read, not a damaged object)
 */
export async function readStreamHolds(loc: S3Location, stream: string, job: string | undefined, gate: DeleteBudget, signal?: AbortSignal): Promise<StreamHolds | undefined> {
  let position: StreamCheckpoint | undefined;
  let damaged: DamagedStreamCheckpoint | undefined;
  try {
    position = (await readStreamCheckpoint(loc, stream, signal))?.value;
  } catch (error) {
    if (!isDamage(error) || signal?.aborted) throw error;
    damaged = damagedStreamCheckpoint(loc, stream, keys.streamCheckpoint(loc, stream), error);
  }
  let held: HeldMark = position && !damaged ? { timeline: position.timeline, seq: position.seq } : { timeline: 1, seq: 0 };
  const withDamaged = damaged ? { damaged } : {};
  const checkpoints = await listJobCheckpoints(loc, signal, gate);
  if (!checkpoints) return gate.stoppedBy ? undefined : { held, leftAlone: [{ stream, reason: 'job checkpoint unreadable' }], ...withDamaged };
  const leftAlone: StreamPruneLeftAlone[] = [];
  for (const c of checkpoints) {
    if (c.streamPending === stream && c.job !== job) leftAlone.push({ stream, reason: 'snapshot starting', job: c.job, backupId: c.backupId });
    else if (c.streamStart?.name === stream) held = olderMark(held, c.streamStart);
  }
  return { held, leftAlone, ...withDamaged };
}
