/**
 * Point-in-time restore: the newest verified snapshot that ended before the target time, then
 * the streamed changes after its start position up to the target time (`restoreStream`, the
 * state from the stream alone, is in stream-restore.ts).
 */
import { checkKnownKeys, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { streamNameOption } from '../stream/name.js';
import { ConfigurationError, PitrPartialError, PitrTargetError, RestoreUnsupportedError, beforeWriting, withStorageErrors, type BackupProblem } from '../errors.js';
import { logOf, type RunContext } from '../context.js';
import type { ManifestDataset } from '../format/manifest.js';
import { probeS3 } from '../s3/probe.js';
import type { S3Location } from '../s3/client.js';
import type { IndexedObject } from '../stream/objects.js';
import { zonedIsoMs } from '../format/zoned-time.js';
import { toLocation, type S3Target } from '../target.js';
import { pickSnapshot } from './pitr-snapshot.js';
import { DEFAULT_SPOOL_BYTES, restoreIdentity, restoreManifest, type RestoreReport } from './index.js';
import { TargetLock, lockMsOption, withRestoreLock } from './lock.js';
import { ifTargetNotEmptyOption, refuseNotEmptyNowAndLocked, type IfTargetNotEmpty } from './not-empty.js';
import { parseDocument } from '../format/records.js';
import { toEjson } from '../sources/mongo.js';
import type { StreamRecord } from '../stream/types.js';
import { assertCovered, assertNoGap, changeOf, loadStreamCheckpoint, replayObjects, timelineObjects } from './replay.js';
import type { ChangeToApply, RestoreIdentity, RestoreTarget } from './targets.js';
import { describeRestore } from './lock-places.js';
import { aggregateOrder, replacesKept, type AggregateOrder } from './change-order.js';

/** Options of `pointInTimeRestore()`. */
export interface PointInTimeRestoreOptions {
  storage: S3Target;
  /** The stream backup (its `name`) whose changes are replayed. */
  stream: string;
  /**
   * The state to reproduce: a time (Date, epoch ms, or an ISO string with its zone — `Z` or an
   * offset; one without is refused with `ConfigurationError`, as it would be read in local time,
   * and so is a day the calendar lacks, such as `2026-02-29`, or epoch ms past a `Date`'s range).
   */
  at: Date | string | number;
  /** A MongoDB target (`mongoTarget(...)`): changes are applied as upserts and deletes by `_id`. */
  target: RestoreTarget;
  /**
   * Only snapshots of this job are candidates. Without it, the snapshots marked with `stream`
   * must all be of one job: where several jobs' are, the restore is refused with
   * `ConfigurationError` on `job` naming them (as `restore()` refuses `'latest'` without
   * `backup.job`). @default the one job whose snapshots are marked with `stream`
   */
  job?: string;
  /** Use snapshots that no `verifyBackup` has passed yet. @default false (verified only) */
  allowUnverified?: boolean;
  /**
   * How long the target's restore lock runs without a renewal (ms), as `restore()`'s `lockMs`:
   * renewed every third of it while the restore writes, released when it ends; a killed
   * restore's lock runs out after it, and another restore into the target is refused until then
   * (`RestoreTargetBusyError`). An integer from 1000 to 2147483647 (2^31−1).
   * @default 60000
   * @example
   * lockMs: 5 * 60_000 // a restore that may pause for minutes (a frozen instance)
   */
  lockMs?: number;
  /**
   * What to do when the target already holds documents in a collection the replay writes:
   * see `RestoreOptions.ifTargetNotEmpty` (`'refuse'`: `RestoreTargetNotEmptyError` once the
   * stream is checked, before anything is written; `'merge'`: the changes are applied over it).
   * @default 'refuse'
   */
  ifTargetNotEmpty?: IfTargetNotEmpty;
  /**
   * Restore a collection the snapshot does not hold (not among its datasets) that streamed
   * changes after the snapshot's mark touch: it gets only the documents those changes wrote —
   * a partial state, as `restoreStream`'s `allowPartial` replays a timeline that began at a
   * break. Without it such a restore is refused with `PitrPartialError` before anything is
   * written; with it the report's `partial` and `warnings` name the collections, and a warning
   * is logged. Take the snapshot with those collections (`mongoSource`'s `collections`) for
   * their whole state.
   * @default false
   * @example
   * await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: scratch }), allowPartial: true });
   */
  allowPartial?: boolean;
}

/** What a point-in-time restore did. */
export interface PointInTimeReport {
  snapshot: RestoreReport;
  /** The target time (ISO). */
  at: string;
  timeline: number;
  /** Streamed changes applied (records up to `at`, repeats and stale records left out). */
  changes: number;
  /** Records dropped as repeats of an event id. */
  duplicates: number;
  /**
   * Stale outbox records left out: a redelivered or late event whose aggregate's later `seq`
   * was archived before the snapshot's mark, so the snapshot already holds a newer state.
   */
  stale: number;
  /** Stream objects read. */
  objects: number;
  /** Collections restored from streamed changes alone (not in the snapshot; `allowPartial`), sorted; empty when none. */
  partial: string[];
  /** What the restore found and did anyway (a `partial` collection); empty when none. */
  warnings: string[];
}

/** The largest epoch milliseconds a Date holds (either side of 1970). */
const MAX_DATE_MS = 8.64e15;

export function toTime(value: unknown, owner = 'pointInTimeRestore', field = 'at'): number {
  // A string without a zone would be read in the machine's local time (UTC on a function, hours
  // off on a laptop): a restore to another moment than the one written. It must say its zone,
  // and name a day the calendar has.
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? zonedIsoMs(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) invalidOption(owner, field, 'a Date, an ISO time with its zone (Z or an offset, e.g. 2026-11-30T10:15:00Z) on a real calendar day, or epoch milliseconds', value);
  return ms;
}

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

/**
 * Reads every stream object (checked) and every change up to `until` that the apply will write
 * (per batch, only the last change of a document counts, as `applyChanges` does) against the
 * target's limits. Writes nothing. The target must have been prepared. Resolves to the id of
 * each document's last change (`<namespace>\u0000<_id as canonical EJSON>` → event id): the
 * last to arrive, except that of one aggregate's outbox events the highest `seq` is the last
 * (one that arrived after a higher `seq` — an unordered queue — is an older image).
 * @param call the token the target's `prepare` returned for this restore call (`PreparedRestore.call`)
 * @param overSnapshot the objects follow a snapshot's mark: stale records it holds are left out, as the apply leaves them (`replayObjects`)
 * @throws {RestoreUnsupportedError} a change the target cannot store (up to 20 listed)
 */
export async function checkChanges(loc: S3Location, objects: IndexedObject[], target: RestoreTarget, until: number | undefined, signal: AbortSignal | undefined, call?: object, overSnapshot = false): Promise<Map<string, string>> {
  const unsupported: BackupProblem[] = [];
  let unsupportedCount = 0;
  const lastOf = new Map<string, { id: string; order: AggregateOrder | undefined }>();
  await replayObjects(
    loc,
    objects,
    async (records) => {
      // The same batches as the apply, where only the last change of a document counts.
      const last = new Map<string, { id: string; change: ChangeToApply; order: AggregateOrder | undefined }>();
      for (const record of records) {
        const change = changeOf(record);
        if (!change) continue;
        const key = `${change.namespace}\u0000${change.id}`;
        const order = aggregateOrder(record);
        if (replacesKept(order, last.get(key)?.order)) last.set(key, { id: record.id, change, order });
        if (replacesKept(order, lastOf.get(key)?.order)) lastOf.set(key, { id: record.id, order });
      }
      for (const { id, change } of last.values()) {
        if (change.op !== 'upsert' || change.doc === undefined) continue;
        let problem: string | undefined;
        try {
          problem = target.check({ name: change.namespace, kind: 'mongodb-collection' } as ManifestDataset, change.doc, call);
        } catch (error) {
          // The target's refusal of its own options (mongoTarget's collectionName mapping two namespaces to one).
          if (error instanceof ConfigurationError) throw error;
          problem = `cannot be decoded (${(error as Error).name})`;
        }
        if (problem && ++unsupportedCount <= 20) unsupported.push({ key: change.namespace, message: `change ${id}: ${problem}` });
      }
    },
    { ...(until === undefined ? {} : { until }), ...(signal ? { signal } : {}), overSnapshot },
  );
  if (unsupportedCount > 0) throw new RestoreUnsupportedError(`${unsupportedCount} streamed change(s) cannot be stored by the target; nothing was written`, unsupported);
  return new Map([...lastOf].map(([key, { id }]) => [key, id]));
}

/** The changes of `records` that are the last (up to the target time) of their document, from `checkChanges`'s map. */
export function lastChanges(records: StreamRecord[], last: Map<string, string>): ChangeToApply[] {
  const out: ChangeToApply[] = [];
  for (const record of records) {
    const change = changeOf(record);
    if (change && last.get(`${change.namespace}\u0000${change.id}`) === record.id) out.push(change);
  }
  return out;
}
