/**
 * Policy selection (`applyRetention()`): which backups the policy keeps — the newest
 * `keepLast` verified ones, every verified one newer than `keepMs`, the newest verified one
 * and the point-in-time base, and every held one (its verification record damaged: never
 * deleted, never counted as verified) — and deleting those older than the oldest kept one, manifest
 * first, a backup's objects all or none under the deadline; then, with `stream`, the prune
 * below every kept backup's start mark (retention-prune.ts).
 */
import type { DeleteBudget } from './retention-budget.js';
import { deleteOrThrow } from './retention-orphans.js';
import { holdFor, type Candidate, type StreamMark } from './retention-candidates.js';
import { pruneStream } from './retention-prune.js';
import type { RetentionReport } from './retention-report.js';
import type { S3Location } from './s3/client.js';
import { keys } from './target.js';

/** The checked options of one run (`applyRetention()` fills in the defaults), read by its steps. */
export interface RetainOptions {
  keepLast: number;
  keepMs: number;
  pitrWindowMs: number;
  job?: string | undefined;
  stream?: string | undefined;
  dryRun: boolean;
  orphanGraceMs: number;
  abandonedCheckpointMs: number;
  leaseMs: number;
  now: number;
}

/** Keeps and deletes backups by the policy (and, with `stream`, the stream objects only deleted backups needed). */
export async function applyPolicy(loc: S3Location, candidates: Candidate[], verified: Candidate[], held: StreamMark | null | 'no', o: RetainOptions, budget: DeleteBudget, report: RetentionReport, signal?: AbortSignal): Promise<void> {
  const { keepLast, keepMs, pitrWindowMs, stream, dryRun, now } = o;
  const keep = new Set<string>();
  for (const c of verified.slice(-keepLast)) keep.add(c.id);
  for (const c of verified) if (now - c.endedAt < keepMs) keep.add(c.id);
  const newest = verified.at(-1)!;
  keep.add(newest.id);
  report.protected.newestVerified = newest.id;
  if (pitrWindowMs > 0) {
    const windowStart = now - pitrWindowMs;
    const ofStream = verified.filter((c) => stream === undefined || c.manifest.start.stream?.name === stream);
    // No snapshot ended before the window (it reaches past every one): the oldest is the
    // earliest point the window can be restored from, and is kept as its base.
    const base = [...ofStream].reverse().find((c) => c.endedAt <= windowStart) ?? ofStream[0];
    if (base) {
      keep.add(base.id);
      report.protected.pitrBase = base.id;
    }
  }
  // The line is drawn from what the rules keep; a held backup (its verification record damaged)
  // is kept wherever it is, and moves the line neither way (the rest goes as without it).
  const oldestKept = candidates.find((c) => keep.has(c.id))!;
  const doomed = candidates.filter((c) => !keep.has(c.id) && !c.held && (c.endedAt < oldestKept.endedAt || (c.endedAt === oldestKept.endedAt && c.id < oldestKept.id)));
  report.kept = candidates.filter((c) => !doomed.includes(c)).map((c) => c.id);

  for (const [at, c] of doomed.entries()) {
    if (dryRun) {
      report.deleted.push(c.id);
      continue;
    }
    const objects = [keys.manifest(loc, c.id), keys.verification(loc, c.id), ...c.manifest.datasets.flatMap((d) => d.segments.map((s) => s.key))];
    // All of a backup's deletes or none: the deadline never leaves one half-deleted.
    if (!budget.allows(objects.length, false)) {
      report.left.backups = doomed.length - at;
      break; // the stream's obsolete objects are still counted below (nothing more is deleted)
    }
    // Manifest first: from here on the backup does not exist, whatever fails later.
    for (const key of objects) await budget.spend(false, () => deleteOrThrow(loc, key, signal));
    report.deleted.push(c.id);
  }
  if (stream === undefined || held === 'no' || budget.stoppedBy === 'signal') return;
  // Every kept backup's start mark holds the prune, not only the oldest kept one's: snapshots of
  // two jobs can overlap (one checkpointed across invocations), so one that ended later may
  // have started earlier on the stream.
  const keptMarks = candidates.filter((c) => !doomed.includes(c)).reduce<StreamMark | null>((h, c) => holdFor(h, c.manifest, stream), held);
  report.streamObjects = await pruneStream(loc, stream, oldestKept.manifest, keptMarks, o.dryRun, budget, report, signal);
}
