/**
 * Point-in-time restore: the newest verified snapshot that ended before the target time, then
 * the streamed changes after its start position up to the target time (`restoreStream`, the
 * state from the stream alone, is in stream-restore.ts).
 */
import { checkKnownKeys, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { streamNameOption } from '../stream/name.js';
import { PitrPartialError, PitrTargetError, RestoreUnsupportedError, beforeWriting, withStorageErrors } from '../errors.js';
import { logOf, type RunContext } from '../context.js';
import type { ManifestDataset } from '../format/manifest.js';
import { probeS3 } from '../s3/probe.js';
import { toLocation } from '../target.js';
import { pickSnapshot } from './pitr-snapshot.js';
import { DEFAULT_SPOOL_BYTES, restoreIdentity, restoreManifest } from './index.js';
import { TargetLock, lockMsOption, withRestoreLock } from './lock.js';
import { ifTargetNotEmptyOption, refuseNotEmptyNowAndLocked } from './not-empty.js';
import { parseDocument } from '../format/records.js';
import { toEjson } from '../sources/mongo.js';
import { assertCovered, assertNoGap, loadStreamCheckpoint, replayObjects, timelineObjects } from './replay.js';
import type { RestoreIdentity } from './targets.js';
import { describeRestore } from './lock-places.js';
import { checkChanges, lastChanges } from './pitr-changes.js';
import { toTime, type PointInTimeReport, type PointInTimeRestoreOptions } from './pitr-options.js';

export type { PointInTimeReport, PointInTimeRestoreOptions } from './pitr-options.js';

/**
 * Restores the state as of `at`.
 *
 * @example
 * await pointInTimeRestore({ storage, stream: 'orders', at: '2026-11-30T10:15:00Z', target: mongoTarget({ db: scratch }) });
 * @throws {PitrTargetError} no verified snapshot ended before `at`, or `at` is past what the stream covers
 * @throws {ConfigurationError} an invalid option; without `job`, snapshots of more than one job marked with `stream` (field `job`, naming them)
 * @throws {StorageError} S3 failed a read (retryable, except `retryable: false` when S3 refused the request — AccessDenied, NoSuchBucket, bad credentials; nothing was written before the checks passed)
 * @throws {TimelineGapError} the stream's timeline broke between the snapshot and `at`
 * @throws {BackupIncompleteError} a stream object is missing
 * @throws {BackupCorruptedError} a snapshot part or stream object fails its checksum
 * @throws {RestoreUnsupportedError} a snapshot record or a streamed change the target cannot store (nothing written)
 * @throws {RestoreTargetBusyError} another restore holds the target's lock (taken as `restore()` takes it, held through the replay; nothing was written)
 * @throws {RestoreTargetPartialError} the target holds an unfinished restore of another backup (its partial-restore marker) and `ifTargetNotEmpty` is not `'merge'` (checked as `RestoreTargetNotEmptyError` is; nothing was written)
 * @throws {PitrPartialError} streamed changes touch a collection the snapshot does not hold and `allowPartial` is not `true` (nothing was written)
 */
export async function pointInTimeRestore(options: PointInTimeRestoreOptions, ctx: RunContext = {}): Promise<PointInTimeReport> {
  return withStorageErrors('pointInTimeRestore: reading the backups', () => restoreAt(options, ctx), ctx.signal, options?.storage?.bucket);
}

async function restoreAt(options: PointInTimeRestoreOptions, ctx: RunContext): Promise<PointInTimeReport> {
  if (options === null || typeof options !== 'object') invalidOption('pointInTimeRestore', 'options', 'an object', options);
  checkKnownKeys('pointInTimeRestore', '', options, keysOf<PointInTimeRestoreOptions>({ storage: true, stream: true, at: true, target: true, job: true, allowUnverified: true, lockMs: true, ifTargetNotEmpty: true, allowPartial: true }));
  const lockMs = lockMsOption('pointInTimeRestore', options.lockMs);
  if (options.allowPartial !== undefined && typeof options.allowPartial !== 'boolean') invalidOption('pointInTimeRestore', 'allowPartial', 'a boolean', options.allowPartial);
  const stream = streamNameOption('pointInTimeRestore', 'stream', options.stream);
  const at = toTime(options.at);
  if (!options.target || typeof options.target.apply !== 'function') invalidOption('pointInTimeRestore', 'target', 'a restore target', options.target);
  if (typeof options.target.applyChanges !== 'function') throw new RestoreUnsupportedError('point-in-time restore applies document changes: use a MongoDB target');
  const ifTargetNotEmpty = ifTargetNotEmptyOption('pointInTimeRestore', options.ifTargetNotEmpty, options.target);
  const given = toLocation('pointInTimeRestore', options.storage, 'storage', 'read');
  const { client } = await probeS3(given, ctx.signal);
  const loc = { ...given, client };
  const signal = ctx.signal;
  // Fail fast while another restore holds the target (the claim before the first write decides).
  await new TargetLock(options.target, lockMs).checkFree(signal);

  const checkpoint = await loadStreamCheckpoint(loc, stream, signal);
  const { manifest: snapshot, damaged } = await pickSnapshot(loc, stream, at, { ...(options.job ? { job: options.job } : {}), verifiedOnly: !options.allowUnverified }, signal);
  const unknown = damaged.length === 0 ? '' : ` (damaged records passed over — a snapshot whose manifest is damaged is no candidate, one whose verification record is damaged is not counted as verified until verifyBackup at 'full' or 'drill' writes a new one: ${damaged.slice(0, 10).map((d) => d.key).join(', ')}${damaged.length > 10 ? ` and ${damaged.length - 10} more` : ''})`;
  if (!snapshot) throw new PitrTargetError(`no ${options.allowUnverified ? '' : 'verified '}snapshot marked with stream "${stream}" ended at or before ${new Date(at).toISOString()}${unknown}`);
  // Keys and the class of damage only, never the record's content.
  if (damaged.length > 0) logOf(ctx).warn('point-in-time restore passed over snapshots whose manifest or verification record is damaged', { damaged, used: snapshot.backupId });
  const mark = snapshot.start.stream!;
  assertCovered(checkpoint, at, mark.timeline > checkpoint.timeline);
  assertNoGap(checkpoint, mark.timeline, at);
  // Check the whole chain of stream objects before writing anything, each changed document
  // against the target too (FerretDB's limits), as the snapshot's records are.
  const objects = await timelineObjects(loc, checkpoint, mark.timeline, mark.seq, signal);
  const { call } = await beforeWriting(`point-in-time restore: preparing the target`, () => options.target.prepare(snapshot, signal), signal);
  const last = await checkChanges(loc, objects, options.target, at, signal, call, true);

  // Every document is written once, in its state at `at`: a snapshot document a change replaces
  // is left to that change, and of a document's changes only the last is applied. No earlier
  // state is written, so a run again (after a kill, or alongside another run to the same `at`)
  // never meets a unique value a later change moved to another document.
  const changed = new Set([...last.keys()].map((key) => key.slice(0, key.indexOf('\u0000'))));
  const partial = notInSnapshot(snapshot.datasets, changed, stream, options.allowPartial === true);
  const replaced = (dataset: ManifestDataset, line: string) => dataset.kind === 'mongodb-collection' && changed.has(dataset.name) && last.has(`${dataset.name}\u0000${toEjson(parseDocument(line)._id)}`);
  // The target's lock (lock.ts) is taken after the snapshot's checks, held through the replay.
  // The marker names this exact restore: a restore() of the snapshot, or one to another time, does not complete it.
  const identity: RestoreIdentity = { ...restoreIdentity(snapshot), kind: 'point-in-time', stream, until: new Date(at).toISOString() };
  const { report, applied } = await withRestoreLock(options.target, lockMs, async (lock) => {
    await refuseNotEmptyNowAndLocked(lock, options.target, [...snapshot.datasets.map((d) => d.name), ...changed], ifTargetNotEmpty, identity, describeRestore(identity), signal);
    const report = await restoreManifest(loc, snapshot, options.target, signal, DEFAULT_SPOOL_BYTES, last.size > 0 ? replaced : undefined, lock, identity);
    lock.checkHeld();
    const applied = await replayObjects(loc, objects, (records) => (lock.checkHeld(), options.target.applyChanges!(lastChanges(records, last), lock.writeSignal(signal))), { until: at, overSnapshot: true, ...(signal ? { signal } : {}) });
    lock.checkHeld();
    return { report, applied };
  });
  const warnings = partial.map((name) => `collection "${name}" is not in snapshot ${snapshot.backupId}: only the documents streamed changes after its mark touched were restored (allowPartial)`);
  if (partial.length > 0) logOf(ctx).warn('point-in-time restore wrote collections the snapshot does not hold from streamed changes alone (allowPartial)', { stream, backupId: snapshot.backupId, collections: partial });
  logOf(ctx).info('point-in-time restore complete', { backupId: snapshot.backupId, at: new Date(at).toISOString(), changes: applied.records });
  return { snapshot: report, at: new Date(at).toISOString(), timeline: mark.timeline, changes: applied.records, duplicates: applied.duplicates, stale: applied.stale, objects: applied.objects, partial, warnings };
}

/**
 * The collections streamed changes write that the snapshot does not hold, sorted: a replay
 * would restore only the documents those changes touched.
 * @throws {PitrPartialError} there are some and `allowPartial` is not `true`
 */
function notInSnapshot(datasets: ManifestDataset[], changed: Set<string>, stream: string, allowPartial: boolean): string[] {
  const held = new Set(datasets.filter((d) => d.kind === 'mongodb-collection').map((d) => d.name));
  const partial = [...changed].filter((name) => !held.has(name)).sort();
  if (partial.length === 0 || allowPartial) return partial;
  const named = partial.slice(0, 10).map((name) => `"${name}"`).join(', ') + (partial.length > 10 ? ` and ${partial.length - 10} more` : '');
  throw new PitrPartialError(
    `streamed changes of "${stream}" after the snapshot's mark touch collection(s) the snapshot does not hold (${named}): replaying them would restore only the documents those changes touched. Take a snapshot that holds them, or pass allowPartial: true; nothing was written`,
    partial,
  );
}
