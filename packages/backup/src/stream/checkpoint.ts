/**
 * A stream backup's checkpoint (`streams/<name>/checkpoint.json`): where the source was read
 * up to, which timeline and object number come next, and the hours that hold objects (so a
 * restore never lists). Read back through its schema (`parseStored`): a damaged or foreign
 * object is refused with a typed error.
 */
import { z } from 'zod';
import { keys } from '../target.js';
import { getStored } from '../format/stored.js';
import type { S3Location } from '../s3/client.js';

const isoTime = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'an ISO 8601 time');
const count = z.number().int().min(0);

/** A timeline: objects numbered from 1, until a gap breaks it. */
export const timelineSchema = z.object({ id: z.number().int().min(1), startedAt: isoTime, brokenAt: isoTime.optional(), reason: z.string().optional() });

/** An hour holding objects of one timeline, with the range of their object numbers. */
export const hourEntrySchema = z.object({ timeline: z.number().int().min(1), hour: count, firstSeq: z.number().int().min(1), lastSeq: z.number().int().min(1) });

export const streamCheckpointSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  fence: count,
  owner: z.string(),
  timeline: z.number().int().min(1),
  /** Number of the last object written on the current timeline (0: none). */
  seq: count,
  /** Source position of the last archived record (null: none on this timeline). */
  position: z.string().nullable(),
  /** Source state (dedup sets, per-aggregate seq) as of `position`; each source checks its own. */
  sourceState: z.unknown().optional(),
  /** Everything with an event time up to this (ISO) is archived: the source was drained then. */
  coveredUntil: isoTime.nullable(),
  timelines: z.array(timelineSchema).min(1),
  /** Hours holding objects, with the objects' seq range, per timeline (so restore never lists). */
  hours: z.array(hourEntrySchema),
  updatedAt: isoTime,
});

/** A stream backup's checkpoint. */
export type StreamCheckpoint = z.infer<typeof streamCheckpointSchema>;

/** Reads a stream's checkpoint (undefined when the stream has never written). @throws {BackupCorruptedError | UnsupportedFormatError} */
export async function readStreamCheckpoint(loc: S3Location, name: string, signal?: AbortSignal): Promise<{ value: StreamCheckpoint; etag: string } | undefined> {
  return getStored(loc, keys.streamCheckpoint(loc, name), streamCheckpointSchema, { what: `stream "${name}" checkpoint`, version: 1 }, signal);
}
