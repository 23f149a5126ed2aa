/**
 * How far retention pruned a stream (`streams/<name>/pruned.json`): retention writes it before
 * it deletes an hour of stream objects that no kept snapshot needs, and only ever moves it
 * forward. The stream's checkpoint (the sink's, under the sink's lease) keeps listing those
 * hours; a restore that meets one of their missing indexes reads this to say the range was
 * pruned (`StreamPrunedError`) rather than lost.
 */
import { z } from 'zod';
import type { PrunedThrough } from '../errors.js';
import { getStored } from '../format/stored.js';
import { putObject, type S3Location } from '../s3/client.js';
import { keys } from '../target.js';

const prunedSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  timeline: z.number().int().min(1),
  seq: z.number().int().min(0),
  prunedAt: z.string().refine((t) => Number.isFinite(Date.parse(t)), 'an ISO 8601 time'),
});

/** Whether an hour of `timeline` ending at object `lastSeq` is at or before `through` (what was pruned, or a snapshot's start mark). */
export function isPruned(through: { timeline: number; seq: number }, timeline: number, lastSeq: number): boolean {
  return timeline < through.timeline || (timeline === through.timeline && lastSeq <= through.seq);
}

/** How far retention pruned stream `name` (undefined: never). @throws {BackupCorruptedError | UnsupportedFormatError} */
export async function readPruned(loc: S3Location, name: string, signal?: AbortSignal): Promise<PrunedThrough | undefined> {
  const found = await getStored(loc, keys.streamPruned(loc, name), prunedSchema, { what: `stream "${name}" pruned record`, version: 1 }, signal);
  return found ? { timeline: found.value.timeline, seq: found.value.seq, prunedAt: found.value.prunedAt } : undefined;
}

/** Records that retention pruned stream `name` through `through` (kept as is when it already reaches that far). */
export async function recordPruned(loc: S3Location, name: string, through: { timeline: number; seq: number }, signal?: AbortSignal): Promise<void> {
  const known = await readPruned(loc, name, signal);
  if (known && isPruned(known, through.timeline, through.seq)) return;
  const record = { formatVersion: 1, name, timeline: through.timeline, seq: through.seq, prunedAt: new Date().toISOString() };
  await putObject(loc, keys.streamPruned(loc, name), JSON.stringify(record), signal ? { signal } : {});
}
