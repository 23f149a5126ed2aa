/**
 * One invocation of a snapshot job: take the job's lease, continue the checkpointed backup
 * (reconciled with `ListParts`) or start a new one, copy datasets until done or the deadline
 * nears, then commit the manifest with `If-None-Match: *`. A failed upload is aborted; a
 * deadline leaves a checkpoint that the next invocation continues from.
 */
import { ConfigurationError } from '@steadyfn/handler';
import { invalidOption } from '@steadyfn/handler/internal';
import { v7 as uuidv7 } from 'uuid';
import { BackupError, FencedError, SourceChangedError, StorageError, describeError, sourceErrorOf } from '../errors.js';
import { logOf, remaining, warnUnderReserve, type RunContext } from '../context.js';
import { ContentHash } from '../format/content-hash.js';
import { MANIFEST_FORMAT_VERSION, parseManifest, segmentChecksum, serializeManifest, type ManifestBody, type ManifestDataset, type PositionMark } from '../format/manifest.js';
import { takeJobLease } from '../job-lease.js';
import { openChainedObject, type ChainedObject } from '../s3/chained-object.js';
import { deleteObject, getObject, type S3Location } from '../s3/client.js';
import { putIfAbsent } from '../s3/conditional.js';
import { abortUpload, completeUpload, listParts } from '../s3/multipart.js';
import { probeS3 } from '../s3/probe.js';
import { notBeforeS3 } from '../s3-clock.js';
import type { SourceDescription } from '../sources/types.js';
import { snapshotCheckpointSchema, type SnapshotCheckpoint } from './checkpoint.js';
import { keys } from '../target.js';
import { copyDataset, type CheckpointDataset } from './copy.js';
import type { ResolvedSnapshotOptions } from './options.js';
import { streamMark } from './mark.js';
import { checkJobSource } from './job-source.js';
import { VERSION } from '../version.js';

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
 * Seals the checkpoint's open segments: each upload is checked against `ListParts` and
 * completed with exactly the parts the checkpoint knows (parts S3 holds beyond them — uploaded
 * after the last checkpoint — are left out, which discards them). Every record written so far
 * is then in a complete object, readable by the resumed run (a Redis source reads the keys it
 * already wrote back from it), and the run continues in a new segment. An upload that is gone
 * or differs (aborted, a lifecycle rule) is dropped: its records are read again.
 * Resolves to the number of parts discarded.
 */
async function reconcile(loc: S3Location, state: SnapshotCheckpoint, serverChecksums: boolean): Promise<number> {
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
async function discardBackup(loc: S3Location, state: SnapshotCheckpoint): Promise<void> {
  for (const ds of state.datasets) {
    if (ds.current) await abortUpload(loc, ds.current.key, ds.current.uploadId).catch(() => undefined);
    for (const segment of ds.segments) await deleteObject(loc, segment.key).catch(() => undefined);
  }
}

function manifestDataset(ds: CheckpointDataset, info: SourceDescription['datasets'][number]): ManifestDataset {
  const hash = new ContentHash();
  let count = 0;
  const segments = ds.segments.map((segment) => {
    for (const p of segment.parts) {
      hash.add(Buffer.from(p.digest, 'hex'));
      count += p.records;
    }
    return {
      key: segment.key,
      bytes: segment.parts.reduce((s, p) => s + p.bytes, 0),
      sha256: segmentChecksum(segment.parts),
      records: segment.parts.reduce((s, p) => s + p.records, 0),
      rawBytes: segment.parts.reduce((s, p) => s + p.rawBytes, 0),
      firstKey: segment.parts[0]?.firstKey ?? '',
      lastKey: segment.parts.at(-1)?.lastKey ?? '',
      parts: segment.parts.map(({ number, offset, bytes, sha256, crc32, records, rawBytes, firstKey, lastKey }) => ({ number, offset, bytes, sha256, crc32, records, rawBytes, firstKey, lastKey })),
    };
  });
  return {
    name: ds.name,
    kind: info.kind,
    count,
    contentHash: hash.toHex(),
    encoding: info.encoding,
    ...(info.options ? { options: info.options } : {}),
    ...(info.indexes ? { indexes: info.indexes } : {}),
    segments,
  };
}

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
      strayParts = await reconcile(loc, state, capabilities.serverChecksums);
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
          save: () => void save(),
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

    const body: ManifestBody = {
      formatVersion: MANIFEST_FORMAT_VERSION,
      tool: { name: '@steadyfn/backup', version: VERSION },
      backupId: current.backupId,
      job: options.job,
      kind: 'snapshot',
      source: {
        kind: current.description.kind,
        engine: current.description.engine,
        serverVersion: current.description.serverVersion,
        ...(current.description.database === undefined ? {} : { database: current.description.database }),
        ...(current.description.rdbVersion === undefined ? {} : { rdbVersion: current.description.rdbVersion }),
        ...(current.description.cluster === undefined ? {} : { cluster: current.description.cluster }),
      },
      consistency: 'fuzzy',
      start: current.start,
      // Not earlier than S3's clock now that every segment is written: a runner whose clock is
      // behind would otherwise date the backup in the past, and retention would judge it older.
      end: await mark(options, loc, signal, keys.jobLease(options.job)),
      encoding: current.description.kind === 'mongodb' ? 'ejson-canonical-v2' : 'redis-v1',
      compression: 'gzip-member-per-part',
      datasets: current.datasets.map((ds) => manifestDataset(ds, current.description.datasets.find((d) => d.name === ds.name)!)),
      warnings: current.warnings,
      storage: { conditionalWrites: capabilities.ifNoneMatch && capabilities.ifMatch, serverChecksums: capabilities.serverChecksums },
    };
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
    if (state && checkpoint && !aborted && !(error instanceof FencedError)) {
      // A failed upload is aborted: no partial object, no manifest. Completed segments stay for the next run.
      for (const ds of state.datasets) {
        if (!ds.current) continue;
        await abortUpload(loc, ds.current.key, ds.current.uploadId).catch(() => undefined);
        delete ds.current;
      }
      await checkpoint.save(state).catch(() => undefined);
    }
    if (error instanceof FencedError) await lease.abandon();
    else await lease.release().catch(() => undefined);
    // Named as thrown: once the signal aborted, runSnapshot throws the signal's reason, not the interrupted call's error.
    log.error('snapshot backup failed', { job: options.job, backupId: state?.backupId, error: describeError(aborted ? (signal.reason ?? error) : error) });
    if (error instanceof BackupError || error instanceof ConfigurationError || aborted) throw error;
    throw new StorageError(`snapshot job "${options.job}" failed (${describeError(error)}); the upload was aborted`, error);
  }
}

/**
 * The source's and the stream's positions now, and the time: the runner's clock, or — given
 * `clockKey`, a key whose GET reads S3's clock (see s3-clock.ts) — never earlier than S3's.
 */
async function mark(options: ResolvedSnapshotOptions, loc: S3Location, signal?: AbortSignal, clockKey?: string): Promise<PositionMark> {
  const serverTime = await options.source.serverTime(signal).catch(() => undefined);
  const stream = options.stream === undefined ? undefined : await streamMark(loc, options.stream, signal);
  const time = clockKey === undefined ? Date.now() : await notBeforeS3(loc, clockKey, signal);
  return { time: new Date(time).toISOString(), ...(serverTime ? { serverTime } : {}), ...(stream ? { stream } : {}) };
}

async function commitManifest(loc: S3Location, caps: { ifNoneMatch: boolean }, body: ManifestBody, signal?: AbortSignal): Promise<void> {
  const key = keys.manifest(loc, body.backupId);
  const written = await putIfAbsent(loc, caps, key, serializeManifest(body), signal ? { signal } : {});
  if (written.written) return;
  // A manifest is already there: ours from an earlier attempt that died before removing the checkpoint.
  const existing = await getObject(loc, key, signal ? { signal } : {});
  const manifest = existing ? parseManifest(existing.body.toString('utf8'), key) : undefined;
  if (manifest?.backupId !== body.backupId) throw new FencedError(`a different manifest exists at ${key}`);
}
