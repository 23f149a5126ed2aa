/**
 * A stream backup's checkpoint (`streams/<name>/checkpoint.json`): where the source was read
 * up to, which timeline and object number come next, and the hours that hold objects (so a
 * restore never lists). Written with a self-checksum (the SHA-256 of the canonical JSON of the
 * rest, as a manifest ends with) and read back through its schema, that checksum and the
 * cross-checks of `checkpoint-consistency.ts`: a damaged, edited or foreign object is refused
 * with a typed error before the sink resumes from it, a restore follows it or retention prunes by it.
 * A checkpoint without a self-checksum (written before there was one) is still read, with
 * the cross-checks only; the next save writes it with one.
 */
import { z } from 'zod';
import { BackupCorruptedError } from '../errors.js';
import { canonicalJson } from '../format/canonical-json.js';
import { sha256 } from '../format/content-hash.js';
import { hex64 } from '../format/manifest.js';
import { parseStored } from '../format/stored.js';
import { getObject, type S3Location } from '../s3/client.js';
import { keys } from '../target.js';
import { checkConsistency } from './checkpoint-consistency.js';
import { streamSourceSchema } from './source-identity.js';

const isoTime = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'an ISO 8601 time');
const count = z.number().int().min(0);

/** A timeline: objects numbered from 1, until a gap breaks it. */
export const timelineSchema = z.object({ id: z.number().int().min(1), startedAt: isoTime, brokenAt: isoTime.optional(), reason: z.string().optional() });

/** An hour holding objects of one timeline, with the range of their object numbers. */
export const hourEntrySchema = z.object({ timeline: z.number().int().min(1), hour: count, firstSeq: z.number().int().min(1), lastSeq: z.number().int().min(1) });

export const streamCheckpointSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  /** The source whose position this is (source-identity.ts); absent in checkpoints written before it was recorded. */
  source: streamSourceSchema.optional(),
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
  /** SHA-256 (hex) of the canonical JSON of every other member; absent in checkpoints written before it existed. */
  selfChecksum: z.object({ algorithm: z.literal('sha256'), value: hex64 }).optional(),
});

/** A stream backup's checkpoint. */
export type StreamCheckpoint = z.infer<typeof streamCheckpointSchema>;

/** The self-checksum of a checkpoint's members other than `selfChecksum` (as plain JSON: what is stored). */
function checksumOf(body: Record<string, unknown>): string {
  return sha256(canonicalJson(JSON.parse(JSON.stringify(body)))).toString('hex');
}

/** Serialises a checkpoint with its self-checksum (any `selfChecksum` it carries is replaced). */
export function serializeStreamCheckpoint(checkpoint: StreamCheckpoint): string {
  const { selfChecksum: _old, ...body } = checkpoint;
  return JSON.stringify({ ...body, selfChecksum: { algorithm: 'sha256', value: checksumOf(body) } });
}

/**
 * Parses and checks a stored checkpoint: JSON, format version, shape, self-checksum (when it has
 * one), then its cross-checks.
 * @throws {UnsupportedFormatError} another `formatVersion`
 * @throws {BackupCorruptedError} not JSON, not the shape, a self-checksum mismatch, or inconsistent
 */
export function parseStreamCheckpoint(text: string, key: string, what: string): StreamCheckpoint {
  const checkpoint = parseStored(text, streamCheckpointSchema, { key, what, version: 1 });
  if (checkpoint.selfChecksum) {
    const { selfChecksum: _claimed, ...body } = JSON.parse(text) as Record<string, unknown>;
    if (checkpoint.selfChecksum.value !== checksumOf(body)) {
      throw new BackupCorruptedError(`${what} does not match its self-checksum (damaged or edited)`, [{ key, message: 'self-checksum mismatch: expected the SHA-256 of the canonical JSON of its other members' }]);
    }
  }
  checkConsistency(checkpoint, key, what);
  return checkpoint;
}

/** Reads a stream's checkpoint (undefined when the stream has never written). @throws {BackupCorruptedError | UnsupportedFormatError} */
export async function readStreamCheckpoint(loc: S3Location, name: string, signal?: AbortSignal): Promise<{ value: StreamCheckpoint; etag: string } | undefined> {
  const key = keys.streamCheckpoint(loc, name);
  const found = await getObject(loc, key, signal ? { signal } : {});
  if (!found) return undefined;
  return { value: parseStreamCheckpoint(found.body.toString('utf8'), key, `stream "${name}" checkpoint`), etag: found.etag };
}
