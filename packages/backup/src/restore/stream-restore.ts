/**
 * `restoreStream`: a timeline replayed from its first object (state from the stream alone,
 * deletes included). A timeline after the first began at a break and holds only the changes
 * since it: its replay is refused unless the caller opts into a partial state (`allowPartial`).
 */
import { checkKnownKeys, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { streamNameOption } from '../stream/name.js';
import { TimelineGapError, TimelinePartialError, beforeWriting, withStorageErrors } from '../errors.js';
import { logOf, type RunContext } from '../context.js';
import type { Manifest } from '../format/manifest.js';
import { probeS3 } from '../s3/probe.js';
import { keys, toLocation, type S3Target } from '../target.js';
import type { S3Location } from '../s3/client.js';
import type { StreamCheckpoint } from '../stream/checkpoint.js';
import { TargetLock, lockMsOption, withRestoreLock } from './lock.js';
import { ifTargetNotEmptyOption, refuseNotEmptyNowAndLocked, type IfTargetNotEmpty } from './not-empty.js';
import { assertCovered, assertNoGap, loadStreamCheckpoint, replayObjects, timelineObjects } from './replay.js';
import { checkChanges, lastChanges } from './pitr-changes.js';
import { toTime } from './pitr-options.js';
import type { RestoreIdentity, RestoreTarget } from './targets.js';
import { describeRestore } from './lock-places.js';

/** Options of `restoreStream()`. */
export interface RestoreStreamOptions {
  storage: S3Target;
  stream: string;
  /** A MongoDB target. */
  target: RestoreTarget;
  /**
   * The timeline to replay. A timeline holds only the changes since it began — the first since
   * the stream started, a later one since the break (a gap the sink found) that began it — so
   * documents no change of it touched are not restored: after a break, the current timeline
   * alone is not the whole state. A timeline after the first is refused with
   * `TimelinePartialError` unless `allowPartial` is `true` (use `pointInTimeRestore` from a
   * snapshot taken after the break for the whole state).
   * @default the current one
   */
  timeline?: number;
  /**
   * Replay a timeline that began at a break (any after the first) although it holds only the
   * changes since the break: the target gets the documents those changes touched, no other
   * (the report says `partial: true`). Without it such a replay is refused before anything is
   * written. Has no effect on the first timeline, which starts with the stream.
   * @default false
   * @example
   * await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: scratch }), allowPartial: true });
   */
  allowPartial?: boolean;
  /**
   * Apply changes up to this time (like `pointInTimeRestore`'s `at`: an ISO string must say its
   * zone; a time past the last streamed change the stream covers is refused with `PitrTargetError`,
   * nothing written). @default everything
   */
  until?: Date | string | number;
  /**
   * How long the target's restore lock runs without a renewal (ms): see
   * `PointInTimeRestoreOptions.lockMs`. An integer from 1000 to 2147483647 (2^31−1).
   * @default 60000
   */
  lockMs?: number;
  /**
   * What to do when the target already holds documents in a collection the replay writes:
   * see `RestoreOptions.ifTargetNotEmpty` (`'refuse'`: `RestoreTargetNotEmptyError` once the
   * stream is checked, before anything is written; `'merge'`: the changes are applied over it).
   * @default 'refuse'
   */
  ifTargetNotEmpty?: IfTargetNotEmpty;
}

/** What `restoreStream()` did. */
export interface RestoreStreamReport {
  /** The timeline replayed. */
  timeline: number;
  /**
   * `true` when the timeline began at a break (replayed with `allowPartial`): the target holds
   * only the documents its changes touched. `false` for the first timeline (the whole stream).
   */
  partial: boolean;
  /** Changes applied (records within `until`, repeats dropped). */
  changes: number;
  /** Records dropped as repeats of an event id. */
  duplicates: number;
  /** Stream objects read. */
  objects: number;
}

/**
 * Rebuilds state from a stream alone: every change of a timeline from its first object, in
 * order, deduplicated by event id (deletes applied as deletes). Checks every object first.
 *
 * @example
 * const report = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: scratch }) });
 * @throws {BackupNotFoundError} the stream has no checkpoint
 * @throws {TimelinePartialError} the timeline (by default the current one) began at a break, so it holds only the changes since, and `allowPartial` is not `true` (nothing was written)
 * @throws {BackupIncompleteError} an object of the timeline is missing
 * @throws {StreamPrunedError} retention pruned objects of the timeline (no kept snapshot needed them)
 * @throws {TimelineGapError} the timeline broke before `until`, or the stream has no such timeline
 * @throws {PitrTargetError} `until` (on the current timeline) is past the last streamed change the stream covers (`coveredUntil` of its checkpoint; nothing was written)
 * @throws {RestoreTargetBusyError} another restore holds the target's lock (taken before the first change is applied, as `restore()` takes it; nothing was written). Its partial-restore marker names the backup `stream <name>`; an earlier unfinished restore's marker is logged as a warning to `ctx.log`
 * @throws {RestoreTargetPartialError} the target holds an unfinished restore of another backup (its partial-restore marker) and `ifTargetNotEmpty` is not `'merge'` (checked as `RestoreTargetNotEmptyError` is; nothing was written)
 */
export async function restoreStream(options: RestoreStreamOptions, ctx: RunContext = {}): Promise<RestoreStreamReport> {
  return withStorageErrors('restoreStream: reading the stream', () => replayStream(options, ctx), ctx.signal, options?.storage?.bucket);
}

/**
 * Whether replaying `timeline` alone is partial (it began at a break); refuses it unless allowed.
 * @throws {TimelineGapError} the stream has no such timeline
 * @throws {TimelinePartialError} it began at a break and `allowPartial` is not `true`
 */
function partialReplay(loc: S3Location, checkpoint: StreamCheckpoint, timeline: number, allowPartial: boolean): boolean {
  if (!checkpoint.timelines.some((t) => t.id === timeline)) throw new TimelineGapError(`stream "${checkpoint.name}" has no timeline ${timeline} (its timelines are 1 to ${checkpoint.timeline})`);
  if (timeline === 1) return false;
  if (allowPartial) return true;
  // Timelines are numbered from 1 in order, each one before the current broken (checkpoint-consistency.ts).
  const before = checkpoint.timelines.find((t) => t.id === timeline - 1)!;
  const brokenAt = before.brokenAt ?? 'an unknown time';
  // The sink's reason can name an aggregate id (an outbox seq gap): kept in its field, out of the
  // message and problems, which get logged.
  const reason = before.reason ?? 'gap';
  throw new TimelinePartialError(
    `stream "${checkpoint.name}" timeline ${timeline} began at a break (timeline ${timeline - 1} broke at ${brokenAt}; why is in the stream's checkpoint and the error's reason); it holds only the changes since, so replaying it alone would restore only the documents they touched. Restore with pointInTimeRestore from a snapshot taken after the break, or pass allowPartial: true to restoreStream to replay it anyway; nothing was written`,
    { timeline, brokenAt, reason },
    [{ key: keys.streamCheckpoint(loc, checkpoint.name), message: `timeline ${timeline - 1} broke at ${brokenAt}` }],
  );
}

async function replayStream(options: RestoreStreamOptions, ctx: RunContext): Promise<RestoreStreamReport> {
  if (options === null || typeof options !== 'object') invalidOption('restoreStream', 'options', 'an object { storage, stream, target, timeline?, allowPartial?, until? }', options);
  checkKnownKeys('restoreStream', '', options, keysOf<RestoreStreamOptions>({ storage: true, stream: true, target: true, timeline: true, allowPartial: true, until: true, lockMs: true, ifTargetNotEmpty: true }));
  const lockMs = lockMsOption('restoreStream', options.lockMs);
  const stream = streamNameOption('restoreStream', 'stream', options.stream);
  if (!options.target || typeof options.target.applyChanges !== 'function') invalidOption('restoreStream', 'target', 'a MongoDB restore target', options.target);
  const ifTargetNotEmpty = ifTargetNotEmptyOption('restoreStream', options.ifTargetNotEmpty, options.target);
  const given = toLocation('restoreStream', options.storage, 'storage', 'read');
  if (options.timeline !== undefined && !(Number.isSafeInteger(options.timeline) && options.timeline >= 1)) invalidOption('restoreStream', 'timeline', 'a timeline number (an integer ≥ 1)', options.timeline);
  if (options.allowPartial !== undefined && typeof options.allowPartial !== 'boolean') invalidOption('restoreStream', 'allowPartial', 'a boolean', options.allowPartial);
  const until = options.until === undefined ? undefined : toTime(options.until, 'restoreStream', 'until');
  const { client } = await probeS3(given, ctx.signal);
  const loc = { ...given, client };
  // Fail fast while another restore holds the target (the claim before the first write decides).
  await new TargetLock(options.target, lockMs).checkFree(ctx.signal);
  const checkpoint = await loadStreamCheckpoint(loc, stream, ctx.signal);
  const timeline = options.timeline ?? checkpoint.timeline;
  // Before anything is read or written: a timeline that began at a break is a partial state.
  const partial = partialReplay(loc, checkpoint, timeline, options.allowPartial === true);
  if (until !== undefined) {
    assertNoGap(checkpoint, timeline, until);
    // As pointInTimeRestore's `at`: past the stream's coverage, the state as of `until` would lack
    // the changes not archived yet. (An earlier timeline ends at its break, which assertNoGap bounds.)
    if (timeline === checkpoint.timeline) assertCovered(checkpoint, until);
  }
  const objects = await timelineObjects(loc, checkpoint, timeline, 0, ctx.signal);
  // No snapshot here: the target is prepared for an empty MongoDB backup (it reads what the server supports).
  const { call } = await beforeWriting(`restoreStream: preparing the target`, () => options.target.prepare({ backupId: `stream ${stream}`, source: { kind: 'mongodb' }, datasets: [] } as unknown as Manifest, ctx.signal), ctx.signal);
  const last = await checkChanges(loc, objects, options.target, until, ctx.signal, call);
  // Of a document's changes only the last is applied: no earlier state is written (see pitr.ts).
  // The target's lock (lock.ts) is held from before the first write to the end.
  // The marker names this exact replay (timeline, until): a replay to another point does not complete it.
  const identity: RestoreIdentity = { backupId: `stream ${stream}`, kind: 'stream', stream, timeline, ...(until === undefined ? {} : { until: new Date(until).toISOString() }) };
  const applied = await withRestoreLock(options.target, lockMs, async (lock) => {
    await refuseNotEmptyNowAndLocked(lock, options.target, [...new Set([...last.keys()].map((key) => key.slice(0, key.indexOf('\u0000'))))], ifTargetNotEmpty, identity, describeRestore(identity), ctx.signal);
    const lockWarnings = await lock.take(identity, ctx.signal);
    if (lockWarnings.length > 0) logOf(ctx).warn('restoreStream warnings', { stream, warnings: lockWarnings });
    const applied = await replayObjects(loc, objects, (records) => (lock.checkHeld(), options.target.applyChanges!(lastChanges(records, last), lock.writeSignal(ctx.signal))), {
      ...(until === undefined ? {} : { until }),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    lock.checkHeld();
    return applied;
  });
  if (partial) logOf(ctx).warn('restoreStream replayed a timeline that began at a break: only the documents its changes touched were restored', { stream, timeline });
  return { timeline, partial, changes: applied.records, duplicates: applied.duplicates, objects: applied.objects };
}
