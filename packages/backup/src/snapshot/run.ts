/**
 * One invocation of a snapshot job: take the job's lease, continue the checkpointed backup
 * (reconciled with `ListParts`) or start a new one, copy datasets until done or the deadline
 * nears, then commit the manifest with `If-None-Match: *`. A deadline, or a retryable S3
 * failure, leaves a checkpoint (and its open upload) that the next invocation continues from;
 * any other failure aborts the open upload (run-failure.ts).
 */
import { ConfigurationError } from '@steadyfn/handler/internal';
import { invalidOption } from '@steadyfn/handler/internal';
import { v7 as uuidv7 } from 'uuid';
import { BackupError, FencedError, SourceChangedError, StorageError, describeError, sourceErrorOf } from '../errors.js';
import { logOf, remaining, warnUnderReserve, type RunContext } from '../context.js';
import { takeJobLease } from '../job-lease.js';
import { openChainedObject, type ChainedObject } from '../s3/chained-object.js';
import type { S3Location } from '../s3/client.js';
import { probeS3 } from '../s3/probe.js';
import { snapshotCheckpointSchema, type SnapshotCheckpoint } from './checkpoint.js';
import { keys } from '../target.js';
import { copyDataset } from './copy.js';
import type { ResolvedSnapshotOptions } from './options.js';
import { mark } from './mark.js';
// What a run does with its checkpoint's uploads, and its manifest: apart, this file decides when.
import { discardBackup, reconcile } from './reconcile.js';
import { commitManifest, manifestBody } from './commit.js';
import { checkJobSource } from './job-source.js';
import { settleUploads } from './run-failure.js';
import { terminalAdvice } from '../s3/retryable.js';

export type { SnapshotCheckpoint } from './checkpoint.js';

/** The result of one invocation. */
export type SnapshotResult =
  | {
      status: 'complete';
      backupId: string;
      manifestKey: string;
      datasets: Array<{ name: string; count: number; segments: number }>;
      records: number;
      bytes: number;
      /** This invocation continued a checkpointed backup. */
      resumed: boolean;
      /** Parts S3 held that the checkpoint did not know (replaced or discarded). */
      strayParts: number;
      /** The manifest's `warnings`: what the backup left out or could not read as asked (e.g. `MONGODB_VIEW_DEFINITION_SAVED: view "…" on "…": …`, one per MongoDB view). Empty when none. */
      warnings: string[];
      durationMs: number;
    }
  | {
      status: 'checkpointed';
      /** The backup this run continued or started; absent when the run stopped before any work (no time past `reserveMs`: nothing read, not even the checkpoint). */
      backupId?: string;
      reason: 'deadline' | 'signal';
      datasetsDone: number;
      /** The source's datasets; absent when the run stopped before any work (see `backupId`). */
      datasetsTotal?: number;
      resumed: boolean;
      strayParts: number;
      durationMs: number;
    };

/**
 * Runs one invocation of the job described by `options`. Stopped by `ctx.signal` (the
 * invocation's deadline), it rejects with the signal's reason, whatever call it interrupted.
 */
export async function runSnapshot(options: ResolvedSnapshotOptions, ctx: RunContext = {}): Promise<SnapshotResult> {
  try {
    return await runOnce(options, ctx);
  } catch (error) {
    if (ctx.signal?.aborted) throw ctx.signal.reason ?? error;
    throw error;
  }
}

async function runOnce(options: ResolvedSnapshotOptions, ctx: RunContext): Promise<SnapshotResult> {
  const started = Date.now();
  const log = logOf(ctx);
  // No time past the reserve: stop before any work — no S3 request, no lease, no source query
  // (probing S3, the lease, the checkpoint and the source's first batch took seconds, past a 3 s
  // function's deadline, and a run cut off there held its lease for the next invocations).
  if (warnUnderReserve(ctx, options.reserveMs, `snapshot job "${options.job}"`)) {
    log.info('snapshot backup checkpointed', { job: options.job, reason: 'deadline', datasetsDone: 0 });
    return { status: 'checkpointed', reason: 'deadline', datasetsDone: 0, resumed: false, strayParts: 0, durationMs: Date.now() - started };
  }
  const signal = ctx.signal;
  const { client, capabilities } = await probeS3(options.loc, signal);
  const loc: S3Location = { ...options.loc, client };
  const lease = await takeJobLease(loc, { key: keys.jobLease(options.job), label: `snapshot job "${options.job}"`, leaseMs: options.leaseMs }, signal);
  let failure: unknown;
  const failed = (): unknown => failure ?? lease.failure();

  let state: SnapshotCheckpoint | undefined;
  let strayParts = 0;
  let resumed = false;
  let checkpoint: ChainedObject<SnapshotCheckpoint> | undefined;
  const save = (): Promise<void> => {
    state!.updatedAt = new Date().toISOString();
    state!.fence = lease.fence();
    const saving = checkpoint!.save(state!);
    saving.catch((error: unknown) => void (failure ??= error));
    return saving;
  };

  try {
    const opened = await openChainedObject(loc, capabilities, keys.jobCheckpoint(loc, options.job), { schema: snapshotCheckpointSchema, what: `snapshot job "${options.job}" checkpoint`, version: 1 }, signal);
    checkpoint = opened.object;
    const previous = opened.value;
    resumed = previous !== undefined;
    if (previous) {
      // The job name alone keys the checkpoint: another source under the same name (the default
      // job of a MongoDB and a Redis backup, two databases) must not continue this backup.
      const ours = previous.description.kind === options.source.kind && (options.source.owns === undefined || (await options.source.owns(previous.description)));
      if (!ours) {
        const theirs = previous.description.database === undefined ? previous.description.datasets.map((d) => d.name).join(', ') : `database ${previous.description.database}`;
        invalidOption('snapshotBackup', 'job', `a job name no other source on this target uses (jobs/${options.job}/ holds a checkpoint of a ${previous.description.kind} backup of ${theirs}: give each snapshotBackup its own job)`, options.job);
      }
      state = { ...previous, fence: lease.fence(), owner: lease.owner };
      strayParts = await reconcile(loc, state, capabilities.serverChecksums, log);
    } else {
      const description = await options.source.describe(signal).catch((error: unknown) => {
        // A source that cannot be reached at the start is the source's failure, not the storage's.
        // A ConfigurationError (e.g. a collection the database lacks) is the job's, not the source's.
        if (error instanceof BackupError || error instanceof ConfigurationError || signal?.aborted) throw error;
        throw sourceErrorOf(error, 'describing the source');
      });
      // A dataset's name keys its segments (data/<dataset>/<n>.ndjson.gz): a second dataset of
      // the same name would overwrite the first's objects, under a manifest listing both.
      const twice = description.datasets.map((d) => d.name).find((name, i, names) => names.indexOf(name) !== i);
      if (twice !== undefined) invalidOption('snapshotBackup', 'source', `a source whose datasets have distinct names (each names its segments' S3 keys; ${JSON.stringify(twice)} is there twice)`, options.source.kind);
      // No open checkpoint: the job's committed backups must be of this source too (job-source.ts).
      await checkJobSource(loc, options.job, options.source, description, signal);
      state = {
        formatVersion: 1,
        job: options.job,
        backupId: uuidv7(),
        fence: lease.fence(),
        owner: lease.owner,
        startedAt: new Date().toISOString(),
        // With a stream: saved first without its position (see `streamPending`), read below.
        start: options.stream === undefined ? await mark(options, loc, signal) : { time: new Date().toISOString() },
        ...(options.stream === undefined ? {} : { streamPending: options.stream }),
        description,
        datasets: description.datasets.map((d) => ({ name: d.name, done: false, segments: [] })),
        warnings: [...description.warnings],
        updatedAt: new Date().toISOString(),
      };
      // Once per backup (a resume does not describe the source again): what it leaves out, e.g.
      // MongoDB views. Counts and codes only: a warning's text may name collections or keys.
      if (description.warnings.length > 0) log.warn('snapshot backup warnings', { job: options.job, backupId: state.backupId, warnings: description.warnings.length, codes: warningCodes(description.warnings) });
    }
    if (state.streamPending !== undefined) {
      // Saved before the stream's position is read: retention that lists checkpoints after
      // this write sees a snapshot starting (and prunes nothing), one that listed them before
      // prunes only below a position this read cannot be behind (see retention-holds.ts).
      if (!resumed) await save();
      state.start = await mark(options, loc, signal);
      delete state.streamPending;
    }
    const current = state;
    await save();
    let reason: 'deadline' | 'signal' | undefined;
    for (const ds of current.datasets) {
      if (ds.done) continue;
      const info = current.description.datasets.find((d) => d.name === ds.name)!;
      const { outcome } = await copyDataset(
        {
          options,
          loc,
          backupId: current.backupId,
          serverChecksums: capabilities.serverChecksums,
          ...(signal ? { signal } : {}),
          save,
          failure: failed,
          shouldStop: (estimateMs) => {
            if (signal?.aborted) return (reason = 'signal'), true;
            if (remaining(ctx) < options.reserveMs + 2 * estimateMs) return (reason = 'deadline'), true;
            return false;
          },
        },
        ds,
        info,
      );
      if (outcome === 'stopped') break;
    }
    if (failed()) throw failed();
    for (const note of options.source.notes?.() ?? []) if (!current.warnings.includes(note)) current.warnings.push(note);
    if (reason) {
      await save();
      await lease.release();
      const done = current.datasets.filter((d) => d.done).length;
      log.info('snapshot backup checkpointed', { job: options.job, backupId: current.backupId, reason, datasetsDone: done });
      return { status: 'checkpointed', backupId: current.backupId, reason, datasetsDone: done, datasetsTotal: current.datasets.length, resumed, strayParts, durationMs: Date.now() - started };
    }

    // Not earlier than S3's clock now that every segment is written: a runner whose clock is
    // behind would otherwise date the backup in the past, and retention would judge it older.
    const body = manifestBody(current, options.job, await mark(options, loc, signal, keys.jobLease(options.job)), capabilities);
    await commitManifest(loc, capabilities, body, signal);
    await checkpoint!.remove();
    await lease.release();
    const records = body.datasets.reduce((s, d) => s + d.count, 0);
    const bytes = body.datasets.reduce((s, d) => s + d.segments.reduce((t, g) => t + g.bytes, 0), 0);
    log.info('snapshot backup complete', { job: options.job, backupId: current.backupId, records, bytes, resumed });
    return {
      status: 'complete',
      backupId: current.backupId,
      manifestKey: keys.manifest(loc, current.backupId),
      datasets: body.datasets.map((d) => ({ name: d.name, count: d.count, segments: d.segments.length })),
      records,
      bytes,
      resumed,
      strayParts,
      warnings: [...body.warnings],
      durationMs: Date.now() - started,
    };
  } catch (error) {
    const aborted = signal?.aborted === true;
    if (error instanceof SourceChangedError && state && checkpoint) {
      // A resume would miss data: the backup is abandoned, the next run starts a new one.
      await discardBackup(loc, state);
      await checkpoint.remove().catch(() => undefined);
      await lease.release().catch(() => undefined);
      log.error('snapshot backup abandoned: the source changed', { job: options.job, backupId: state.backupId, error: describeError(error) });
      throw error;
    }
    // A retryable S3 failure keeps the open uploads for the next run, as the deadline does; any other aborts them (run-failure.ts).
    let uploads: 'kept' | 'aborted' | 'none' = 'none';
    if (state && checkpoint && !aborted && !(error instanceof FencedError)) uploads = await settleUploads(loc, state, checkpoint, error);
    if (error instanceof FencedError) await lease.abandon();
    else await lease.release().catch(() => undefined);
    // Named as thrown: once the signal aborted, runSnapshot throws the signal's reason, not the interrupted call's error.
    log.error('snapshot backup failed', { job: options.job, backupId: state?.backupId, uploads, error: describeError(aborted ? (signal.reason ?? error) : error) });
    if (error instanceof BackupError || error instanceof ConfigurationError || aborted) throw error;
    const after = uploads === 'kept' ? 'its upload stays open: the next run continues after the parts S3 acknowledged' : uploads === 'aborted' ? 'the upload was aborted' : 'no upload was open';
    // Named: the bucket and the SDK error's name and status (never its message: it may carry request details).
    throw new StorageError(`snapshot job "${options.job}" failed on bucket "${loc.bucket}" (${describeError(error)}); ${after}${terminalAdvice(error)}`, error, { bucket: loc.bucket });
  }
}

/** The stable codes (`CODE: …` at a line's start) of warning lines, each with how many lines have it. */
function warningCodes(warnings: string[]): Array<{ code: string; count: number }> {
  const counts = new Map<string, number>();
  for (const line of warnings) {
    const code = /^([A-Z][A-Z0-9_]*):/.exec(line)?.[1];
    if (code !== undefined) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts].map(([code, count]) => ({ code, count }));
}
