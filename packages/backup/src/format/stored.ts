/**
 * JSON objects this package reads back from S3 (checkpoints, hourly indexes, verification
 * records): outside bytes, since anyone with access to the bucket can change them. Each is
 * checked against its zod schema; anything else is refused with a typed error naming the key
 * and the first field at fault (never the value), never another exception.
 */
import type { z } from 'zod';
import { BackupCorruptedError, UnsupportedFormatError } from '../errors.js';
import { getObject, type S3Location } from '../s3/client.js';

/** The first issue of a failed parse, as `path: message` (no values). */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
}

/**
 * Parses `text` as the stored JSON object `what` described by `schema`.
 *
 * @throws {UnsupportedFormatError} its `formatVersion` is not `version`
 * @throws {BackupCorruptedError} not JSON, or not the schema's shape
 */
export function parseStored<S extends z.ZodType>(text: string, schema: S, where: { key: string; what: string; version?: number }): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BackupCorruptedError(`${where.what} is not JSON`, [{ key: where.key, message: 'not JSON' }]);
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (where.version !== undefined && raw !== null && typeof raw === 'object' && version !== where.version) {
    throw new UnsupportedFormatError(`${where.what} has format version ${JSON.stringify(version) ?? 'none'} (this version reads ${where.version})`, [{ key: where.key, message: 'unknown format version' }]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new BackupCorruptedError(`${where.what} does not have the expected shape`, [{ key: where.key, message: firstIssue(parsed.error) }]);
  return parsed.data;
}

/**
 * Reads and checks a stored JSON object; `undefined` when it does not exist.
 *
 * @throws {UnsupportedFormatError | BackupCorruptedError} see `parseStored`
 */
export async function getStored<S extends z.ZodType>(loc: S3Location, key: string, schema: S, where: { what: string; version?: number }, signal?: AbortSignal): Promise<{ value: z.infer<S>; etag: string } | undefined> {
  const found = await getObject(loc, key, signal ? { signal } : {});
  if (!found) return undefined;
  return { value: parseStored(found.body.toString('utf8'), schema, { ...where, key }), etag: found.etag };
}
