/**
 * `applyRetention()`: deletes old backups, computed from verified backups only.
 * - keeps the newest `keepLast` verified backups and every verified backup newer than `keepMs`;
 * - never deletes the newest verified backup, nor the snapshot a retained point-in-time window
 *   (`pitrWindowMs`) starts from (the newest verified snapshot that ended before the window);
 * - deletes only backups older than the oldest one it keeps (unverified ones included: they
 *   were superseded without ever being proven);
 * - deletes the manifest first (the backup stops existing), then its verification record and
 *   segments; a failed delete throws `RetentionDeleteError` and nothing after it is deleted;
 * - with `stream`, also deletes stream objects (index first) that only the deleted backups needed;
 * - cleans what is under `backups/` without a manifest and without a job checkpoint naming it
 *   (a run killed before its commit whose job was abandoned, a deletion that stopped part way)
 *   once nothing under it changed for `orphanGraceMs`, at most `orphanBatchSize` objects a run
 *   (see retention-orphans.ts);
 * - runs under a lease (`retention/lease.json`, `@steadyfn/lease`'s S3 store): one retention
 *   run at a time, and a run that lost its lease stops before its next delete;
 * - `dryRun` returns the plan and deletes nothing (and takes no lease).
 * Keep S3 lifecycle expiration rules off this prefix: they delete without knowing which backup
 * is the last good one (see README).
 */
import { checkKnownKeys, intOption, invalidOption, msOption, stringOption, keysOf } from '@steadyfn/handler/internal';
import { BackupNotFoundError, FencedError } from './errors.js';
import { takeJobLease, type JobLease } from './job-lease.js';
import { cleanOrphans, deleteOrThrow, type OrphanReport } from './retention-orphans.js';
import { logOf, type RunContext } from './context.js';
import type { Manifest } from './format/manifest.js';
import type { S3Location } from './s3/client.js';
import { probeS3 } from './s3/probe.js';
import { toLocation, keys, type S3Target } from './target.js';
import { listBackupIds, loadManifest } from './restore/load.js';
import { readVerification } from './verify/record.js';
import { loadStreamCheckpoint } from './restore/replay.js';
import { readHourIndex } from './stream/objects.js';

/** Options of `applyRetention()`. */
export interface RetentionOptions {
  storage: S3Target;
  /** Verified backups to keep, newest first. @default 7 */
  keepLast?: number;
  /** Also keep verified backups that ended less than this long ago (ms). @default 0 */
  keepMs?: number;
  /** Point-in-time window to keep restorable (ms): its base snapshot is kept. @default 0 */
  pitrWindowMs?: number;
  /** Only backups of this job are considered. @default every job */
  job?: string;
  /** Prune this stream's objects that no kept snapshot needs. */
  stream?: string;
  /** Plan only (no lease taken, nothing deleted). @default false */
  dryRun?: boolean;
  /**
   * How long nothing under a backup id without a manifest (and without a job checkpoint naming
   * it) must have been written or started before retention deletes it (ms).
   * @default 86400000 (24 h)
   */
  orphanGraceMs?: number;
  /** Most objects deleted plus uploads aborted per run while cleaning orphans; the rest go next run. @default 1000 */
  orphanBatchSize?: number;
  /** The retention lease's duration (ms), renewed every third of it while the run lasts. @default 300000 */
  leaseMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** What retention decided (and, unless a dry run, did). */
export interface RetentionReport {
  dryRun: boolean;
  kept: string[];
  deleted: string[];
  /** The newest verified backup and the point-in-time base: never deleted. */
  protected: { newestVerified?: string; pitrBase?: string };
  /** Stream objects deleted (or planned), with their hourly indexes. */
  streamObjects: number;
  /** Backup ids without a manifest (an id whose manifest is damaged or of a newer format is in neither list: left alone). */
  uncommitted: string[];
  /** What was cleaned of those (orphans: abandoned runs, deletions that stopped part way), and what was left alone and why. */
  orphans: OrphanReport;
}

const RETENTION_KEYS = keysOf<RetentionOptions>({
  storage: true,
  keepLast: true,
  keepMs: true,
  pitrWindowMs: true,
  job: true,
  stream: true,
  dryRun: true,
  orphanGraceMs: true,
  orphanBatchSize: true,
  leaseMs: true,
  now: true,
});

interface Candidate {
  id: string;
  manifest: Manifest;
  verified: boolean;
  endedAt: number;
}

/**
 * Applies the retention policy.
 *
 * @example
 * await applyRetention({ storage, keepLast: 7, pitrWindowMs: 7 * 86_400_000, stream: 'orders' });
 * @throws {RetentionDeleteError} a delete failed (permissions, a 5xx): the run stops there
 * @throws {LeaseHeldError} another retention run holds the lease (nothing was deleted)
 * @throws {FencedError} the lease was lost during the run: it stopped before its next delete
 * @throws {ConfigurationError} an invalid option
 */
export async function applyRetention(options: RetentionOptions, ctx: RunContext = {}): Promise<RetentionReport> {
  if (options === null || typeof options !== 'object') invalidOption('applyRetention', 'options', 'an object', options);
  checkKnownKeys('applyRetention', '', options, RETENTION_KEYS);
  const given = toLocation('applyRetention', options.storage, 'storage');
  const keepLast = intOption('applyRetention', 'keepLast', options.keepLast, 7, 1);
  const keepMs = msOption('applyRetention', 'keepMs', options.keepMs, 0, 0);
  const pitrWindowMs = msOption('applyRetention', 'pitrWindowMs', options.pitrWindowMs, 0, 0);
  const job = options.job === undefined ? undefined : stringOption('applyRetention', 'job', options.job);
  const stream = options.stream === undefined ? undefined : stringOption('applyRetention', 'stream', options.stream);
  const dryRun = options.dryRun === true;
  const orphanGraceMs = msOption('applyRetention', 'orphanGraceMs', options.orphanGraceMs, 86_400_000, 0);
  const orphanBatchSize = intOption('applyRetention', 'orphanBatchSize', options.orphanBatchSize, 1000, 1, 1_000_000);
  const leaseMs = msOption('applyRetention', 'leaseMs', options.leaseMs, 300_000, 1000);
  const now = (options.now ?? Date.now)();
  const signal = ctx.signal;
  const { client } = await probeS3(given, signal);
  const loc = { ...given, client };
  const lease = dryRun ? undefined : await takeJobLease(loc, { key: keys.retentionLease(), label: 'retention', leaseMs }, signal);
  try {
    return await retain(loc, { keepLast, keepMs, pitrWindowMs, job, stream, dryRun, orphanGraceMs, orphanBatchSize, now }, lease, ctx);
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

/** Stops the run when its lease was lost (checked before every delete). */
function leaseGuard(lease: JobLease | undefined): () => void {
  return () => {
    const failure = lease?.failure();
    if (failure instanceof FencedError) throw failure;
    if (failure) throw new FencedError('retention: the lease could not be renewed; stopped before the next delete');
  };
}

async function retain(
  loc: S3Location,
  o: { keepLast: number; keepMs: number; pitrWindowMs: number; job?: string | undefined; stream?: string | undefined; dryRun: boolean; orphanGraceMs: number; orphanBatchSize: number; now: number },
  lease: JobLease | undefined,
  ctx: RunContext,
): Promise<RetentionReport> {
  const { keepLast, keepMs, pitrWindowMs, job, stream, dryRun, now } = o;
  const signal = ctx.signal;
  const guard = leaseGuard(lease);

  const candidates: Candidate[] = [];
  const uncommitted: string[] = [];
  for (const id of await listBackupIds(loc, signal)) {
    // Only a missing manifest makes an id uncommitted: a damaged or newer-format one is left alone (neither kept nor cleaned).
    const manifest = await loadManifest(loc, id, signal).catch((error: unknown) => (error instanceof BackupNotFoundError ? null : undefined));
    if (manifest === null) uncommitted.push(id);
    if (!manifest) continue;
    if (job !== undefined && manifest.job !== job) continue;
    candidates.push({ id, manifest, verified: (await readVerification(loc, id, signal))?.ok === true, endedAt: Date.parse(manifest.end.time) });
  }
  candidates.sort((a, b) => a.endedAt - b.endedAt || a.id.localeCompare(b.id));
  const verified = candidates.filter((c) => c.verified);
  const orphans = await cleanOrphans(loc, uncommitted, { graceMs: o.orphanGraceMs, batchSize: o.orphanBatchSize, now, dryRun, guard, ...(signal ? { signal } : {}) });
  const report: RetentionReport = { dryRun, kept: [], deleted: [], protected: {}, streamObjects: 0, uncommitted, orphans };
  if (verified.length === 0) {
    report.kept = candidates.map((c) => c.id);
    return report; // Nothing proven restorable: delete no backup.
  }
  const keep = new Set<string>();
  for (const c of verified.slice(-keepLast)) keep.add(c.id);
  for (const c of verified) if (now - c.endedAt < keepMs) keep.add(c.id);
  const newest = verified.at(-1)!;
  keep.add(newest.id);
  report.protected.newestVerified = newest.id;
  if (pitrWindowMs > 0) {
    const windowStart = now - pitrWindowMs;
    const base = [...verified].reverse().find((c) => c.endedAt <= windowStart && (stream === undefined || c.manifest.start.stream?.name === stream));
    if (base) {
      keep.add(base.id);
      report.protected.pitrBase = base.id;
    }
  }
  const oldestKept = candidates.find((c) => keep.has(c.id))!;
  const doomed = candidates.filter((c) => !keep.has(c.id) && (c.endedAt < oldestKept.endedAt || (c.endedAt === oldestKept.endedAt && c.id < oldestKept.id)));
  report.kept = candidates.filter((c) => !doomed.includes(c)).map((c) => c.id);
  report.deleted = doomed.map((c) => c.id);

  for (const c of doomed) {
    if (dryRun) continue;
    guard();
    // Manifest first: from here on the backup does not exist, whatever fails later.
    await deleteOrThrow(loc, keys.manifest(loc, c.id), signal);
    await deleteOrThrow(loc, keys.verification(loc, c.id), signal);
    for (const dataset of c.manifest.datasets) for (const segment of dataset.segments) await deleteOrThrow(loc, segment.key, signal);
  }
  if (stream !== undefined) report.streamObjects = await pruneStream(loc, stream, oldestKept.manifest, dryRun, guard, signal);
  logOf(ctx).info('retention applied', { dryRun, kept: report.kept.length, deleted: report.deleted.length, streamObjects: report.streamObjects, orphansCleaned: orphans.cleaned.length, orphanObjects: orphans.objects + orphans.uploadsAborted });
  return report;
}

/** Deletes stream objects older than the oldest kept snapshot's start mark (index first). */
async function pruneStream(loc: S3Location, name: string, oldest: Manifest, dryRun: boolean, guard: () => void, signal?: AbortSignal): Promise<number> {
  const mark = oldest.start.stream;
  if (!mark || mark.name !== name) return 0;
  const checkpoint = await loadStreamCheckpoint(loc, name, signal);
  let count = 0;
  for (const h of checkpoint.hours) {
    const obsolete = h.timeline < mark.timeline || (h.timeline === mark.timeline && h.lastSeq <= mark.seq);
    if (!obsolete) continue;
    const index = await readHourIndex(loc, name, h.timeline, h.hour, signal);
    if (!index) continue;
    count += index.objects.length;
    if (dryRun) continue;
    guard();
    await deleteOrThrow(loc, `${keys.streamHour(loc, name, h.timeline, h.hour)}/index.json`, signal);
    for (const o of index.objects) await deleteOrThrow(loc, o.key, signal);
  }
  return count;
}
