/**
 * Replaying a stream backup: the objects of one timeline after a given object number, found
 * through the checkpoint's hour list and the hourly indexes (no LIST of large prefixes),
 * checked for continuity (every object number present) and integrity (SHA-256, record count),
 * deduplicated by event id, and applied in order.
 */
import { BackupIncompleteError, BackupNotFoundError, PitrTargetError, StreamPrunedError, TimelineGapError } from '../errors.js';
import { isPruned, readPruned } from '../stream/pruned.js';
import type { S3Location } from '../s3/client.js';
import { keys } from '../target.js';
import { readHourIndex, readStreamObject, withoutRepeats, type IndexedObject } from '../stream/objects.js';
import { readStreamCheckpoint, type StreamCheckpoint } from '../stream/checkpoint.js';
import type { StreamRecord } from '../stream/types.js';
import type { ChangeToApply } from './targets.js';
import { HeldBySnapshot } from './stale.js';

/**
 * Reads a stream's checkpoint.
 * @throws {BackupNotFoundError} the stream has never written
 * @throws {BackupCorruptedError | UnsupportedFormatError} the checkpoint is not a valid one
 */
export async function loadStreamCheckpoint(loc: S3Location, name: string, signal?: AbortSignal): Promise<StreamCheckpoint> {
  const found = await readStreamCheckpoint(loc, name, signal);
  if (!found) throw new BackupNotFoundError(`stream backup "${name}" has no checkpoint (it has never written)`);
  return found.value;
}

/**
 * The objects of `timeline` numbered after `afterSeq`, in order, checked to be contiguous.
 *
 * @throws {BackupIncompleteError} an object number is missing from the indexes
 */
export async function timelineObjects(loc: S3Location, checkpoint: StreamCheckpoint, timeline: number, afterSeq: number, signal?: AbortSignal): Promise<IndexedObject[]> {
  const hours = checkpoint.hours.filter((h) => h.timeline === timeline && h.lastSeq > afterSeq);
  let found: IndexedObject[] = [];
  for (const h of hours) {
    const index = await readHourIndex(loc, checkpoint.name, timeline, h.hour, signal);
    if (!index) await throwIfPruned(loc, checkpoint, timeline, hours, signal);
    if (!index) throw new BackupIncompleteError(`stream "${checkpoint.name}": an hourly index is missing`, [{ key: `${keys.streamHour(loc, checkpoint.name, timeline, h.hour)}/index.json`, message: 'missing' }]);
    found.push(...index.objects.filter((o) => o.timeline === timeline && o.seq > afterSeq));
  }
  // A number listed twice (a sink killed after its entry, before its checkpoint): the entry on the chain.
  found = withoutRepeats(found, checkpoint).sort((a, b) => a.seq - b.seq || a.key.localeCompare(b.key));
  const last = timeline === checkpoint.timeline ? checkpoint.seq : Math.max(afterSeq, ...found.map((o) => o.seq));
  const present = new Set(found.map((o) => o.seq));
  const missing: number[] = [];
  for (let seq = afterSeq + 1; seq <= last; seq++) if (!present.has(seq)) missing.push(seq);
  if (missing.length > 0) {
    throw new BackupIncompleteError(`stream "${checkpoint.name}" timeline ${timeline} is missing object(s) ${missing.slice(0, 5).join(', ')}`, missing.slice(0, 5).map((seq) => ({ key: `streams/${checkpoint.name}/t${timeline}`, message: `object ${seq} missing` })));
  }
  return found;
}

/**
 * An hourly index is missing: when retention pruned that far, says so with the range.
 * @throws {StreamPrunedError} the needed hours are within what retention pruned
 */
async function throwIfPruned(loc: S3Location, checkpoint: StreamCheckpoint, timeline: number, hours: StreamCheckpoint['hours'], signal?: AbortSignal): Promise<void> {
  const through = await readPruned(loc, checkpoint.name, signal);
  if (!through) return;
  const pruned = hours.filter((h) => isPruned(through, h.timeline, h.lastSeq));
  if (pruned.length === 0) return;
  const range = { timeline, firstSeq: Math.min(...pruned.map((h) => h.firstSeq)), lastSeq: Math.max(...pruned.map((h) => h.lastSeq)) };
  throw new StreamPrunedError(
    `stream "${checkpoint.name}": objects ${range.firstSeq}–${range.lastSeq} of timeline ${timeline} were pruned by retention (${through.prunedAt}: every object through timeline ${through.timeline} object ${through.seq}); restore from a kept snapshot instead`,
    range,
    through,
    [{ key: keys.streamPruned(loc, checkpoint.name), message: `pruned through timeline ${through.timeline} object ${through.seq}` }],
  );
}

/** Records handed to `apply` at once. */
const APPLY_BATCH = 2000;

/** The change a record makes to a document, if any. */
export function changeOf(record: StreamRecord): ChangeToApply | undefined {
  if (record.op === 'event' || !record.namespace || !record.key) return undefined;
  return record.op === 'delete' ? { namespace: record.namespace, op: 'delete', id: record.key } : { namespace: record.namespace, op: 'upsert', id: record.key, ...(record.doc ? { doc: record.doc } : {}) };
}

/**
 * Reads the objects in order and hands each object's records (deduplicated by id, event time
 * ≤ `until`) to `apply`. Every object is checked before its records are handed over. With
 * `overSnapshot` (the objects follow a snapshot's mark), a stale outbox record whose later `seq`
 * the snapshot holds is left out too (stale.ts), counted in `stale` (those up to `until`).
 */
export async function replayObjects(
  loc: S3Location,
  objects: IndexedObject[],
  apply: (records: StreamRecord[]) => Promise<void>,
  options: { until?: number; signal?: AbortSignal; overSnapshot?: boolean } = {},
): Promise<{ records: number; duplicates: number; stale: number; objects: number }> {
  const seen = new Set<string>();
  const held = options.overSnapshot ? new HeldBySnapshot() : undefined;
  let records = 0;
  let duplicates = 0;
  let staleCount = 0;
  // Records of several small objects are applied together (in order).
  let batch: StreamRecord[] = [];
  for (const object of objects) {
    for (const record of await readStreamObject(loc, object, options.signal)) {
      if (seen.has(record.id)) {
        duplicates++;
        continue;
      }
      seen.add(record.id);
      // Asked of every record, whatever its time: whether the snapshot holds one depends on all archived before it.
      const stale = held?.holds(record) === true;
      if (options.until !== undefined && Date.parse(record.time) > options.until) continue;
      if (stale) {
        staleCount++;
        continue;
      }
      batch.push(record);
    }
    if (batch.length >= APPLY_BATCH) {
      records += batch.length;
      await apply(batch);
      batch = [];
    }
  }
  if (batch.length > 0) {
    records += batch.length;
    await apply(batch);
  }
  return { records, duplicates, stale: staleCount, objects: objects.length };
}

/**
 * Refuses a target time past what the stream has archived: its checkpoint's `coveredUntil`
 * (every change up to then is in the stream), or any time when `behind` (the snapshot's mark is
 * on a timeline the checkpoint has not reached). A replay to such a time would lack the changes
 * made after the last archived one.
 * @throws {PitrTargetError} `at` is past `coveredUntil`, nothing is covered yet, or `behind`
 */
export function assertCovered(checkpoint: StreamCheckpoint, at: number, behind = false): void {
  if (behind || checkpoint.coveredUntil === null || Date.parse(checkpoint.coveredUntil) < at) {
    throw new PitrTargetError(`${new Date(at).toISOString()} is past the last streamed change of "${checkpoint.name}" (covered until ${checkpoint.coveredUntil ?? 'nothing yet'})`);
  }
}

/** Refuses a replay of `timeline` up to `until` when the timeline broke before it. @throws {TimelineGapError} */
export function assertNoGap(checkpoint: StreamCheckpoint, timeline: number, until: number): void {
  const entry = checkpoint.timelines.find((t) => t.id === timeline);
  if (!entry) throw new TimelineGapError(`stream "${checkpoint.name}" has no timeline ${timeline}`);
  if (entry.brokenAt !== undefined && Date.parse(entry.brokenAt) <= until) {
    // The sink's reason can name an aggregate id (an outbox seq gap): kept in its field, out of the
    // message and problems, which get logged.
    throw new TimelineGapError(
      `stream "${checkpoint.name}" timeline ${timeline} broke at ${entry.brokenAt} (why is in the stream's checkpoint and the error's reason); a target after that needs a newer snapshot`,
      [{ key: `streams/${checkpoint.name}/checkpoint.json`, message: `timeline ${timeline} broke at ${entry.brokenAt}` }],
      { reason: entry.reason ?? 'gap' },
    );
  }
}
