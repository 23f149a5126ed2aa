/**
 * Cross-checks of a stream checkpoint's members against each other: what its schema cannot say,
 * and what a checkpoint without a self-checksum (written before it existed) is still checked
 * by. Each refusal names the member and what was expected, never a value.
 */
import { BackupCorruptedError } from '../errors.js';
import type { StreamCheckpoint } from './checkpoint.js';

const HOUR_MS = 3_600_000;

/** The first inconsistency of `checkpoint`, as `member: what was expected`, or undefined. */
export function inconsistency(checkpoint: StreamCheckpoint): string | undefined {
  const { timelines, hours, timeline, seq } = checkpoint;
  for (const [i, t] of timelines.entries()) {
    if (t.id !== i + 1) return `timelines[${i}].id: expected ${i + 1} (timelines numbered from 1, in order)`;
    if (t.id < timeline && t.brokenAt === undefined) return `timelines[${i}].brokenAt: expected on every timeline before the current one`;
  }
  if (timelines.length !== timeline) return 'timeline: expected the last of timelines';
  const seen = new Set<string>();
  let last = 0;
  for (const [i, h] of hours.entries()) {
    if (h.timeline > timeline) return `hours[${i}].timeline: expected at most the current timeline`;
    if (h.hour % HOUR_MS !== 0) return `hours[${i}].hour: expected the start of an hour (epoch ms)`;
    if (h.firstSeq > h.lastSeq) return `hours[${i}].firstSeq: expected at most lastSeq`;
    const id = `${h.timeline}/${h.hour}`;
    if (seen.has(id)) return `hours[${i}]: expected one entry per timeline and hour`;
    seen.add(id);
    if (h.timeline === timeline) {
      if (h.lastSeq > seq) return `hours[${i}].lastSeq: expected at most seq (the last object written on the current timeline)`;
      last = Math.max(last, h.lastSeq);
    }
  }
  if (last !== seq) return 'seq: expected the highest lastSeq of the current timeline\'s hours';
  if (seq > 0 && checkpoint.position === null) return 'position: expected the position of the last archived record (objects were written)';
  return undefined;
}

/** @throws {BackupCorruptedError} the checkpoint's members contradict each other (see `inconsistency`) */
export function checkConsistency(checkpoint: StreamCheckpoint, key: string, what: string): void {
  const found = inconsistency(checkpoint);
  if (found) throw new BackupCorruptedError(`${what} is inconsistent (damaged or edited)`, [{ key, message: found }]);
}
