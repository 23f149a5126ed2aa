/**
 * Where the stream sweep continues (`retention/streams-cursor.json`): a bucket with very many
 * stream objects takes more than one invocation to list, so the sweep saves, after each page
 * with more to follow and where it stops, the stream and the last key it handled. The next run
 * starts there (`StartAfter`), skipping the streams before it; a run that reaches the end
 * removes the cursor, and the one after starts from the first stream again. Only the holder of
 * the retention lease writes it; dry runs neither read nor write it. A cursor that cannot be
 * read is ignored (the sweep starts from the beginning: its decisions never depend on it).
 */
import { z } from 'zod';
import { BackupError } from './errors.js';
import { getStored } from './format/stored.js';
import { deleteObject, putObject, type S3Location } from './s3/client.js';
import { keys } from './target.js';

const cursorSchema = z.object({ formatVersion: z.literal(1), stream: z.string().min(1), after: z.string(), savedAt: z.string() });

/** A position in the sweep: stream `stream`, after key `after` (`''`: from its first key). */
export interface SweepCursor {
  stream: string;
  after: string;
}

/** The saved cursor; `undefined` when there is none or it cannot be read. */
export async function readCursor(loc: S3Location, signal?: AbortSignal): Promise<SweepCursor | undefined> {
  try {
    const found = await getStored(loc, keys.retentionCursor(loc), cursorSchema, { what: 'retention cursor', version: 1 }, signal);
    return found ? { stream: found.value.stream, after: found.value.after } : undefined;
  } catch (error) {
    if (error instanceof BackupError) return undefined;
    throw error;
  }
}

/** Saves the cursor (the retention lease is held). */
export async function saveCursor(loc: S3Location, cursor: SweepCursor, signal?: AbortSignal): Promise<void> {
  await putObject(loc, keys.retentionCursor(loc), JSON.stringify({ formatVersion: 1, ...cursor, savedAt: new Date().toISOString() }), signal ? { signal } : {});
}

/** Removes the cursor: the next sweep starts from the first stream. */
export async function clearCursor(loc: S3Location, signal?: AbortSignal): Promise<void> {
  await deleteObject(loc, keys.retentionCursor(loc), signal);
}
