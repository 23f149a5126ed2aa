/**
 * Finding and reading a snapshot backup: the catalog (one prefix per backup id, ids are
 * UUIDv7 so they sort by time), the manifest, and the parts of its segments by byte range.
 */
import { BackupCorruptedError, BackupError, BackupIncompleteError, BackupNotFoundError } from '../errors.js';
import { sha256 } from '../format/content-hash.js';
import { parseManifest, type Manifest, type ManifestPart } from '../format/manifest.js';
import { gunzipLines } from '../format/ndjson.js';
import { getObject, headObject, listKeys, type S3Location } from '../s3/client.js';
import { keys } from '../target.js';

/** Backup ids under the target, oldest first (a backup without a manifest is listed too: check `loadManifest`). */
export async function listBackupIds(loc: S3Location, signal?: AbortSignal): Promise<string[]> {
  const root = keys.backupsRoot(loc);
  const { prefixes } = await listKeys(loc, root, { delimiter: '/', ...(signal ? { signal } : {}) });
  return prefixes.map((p) => p.slice(root.length, -1)).sort();
}

/**
 * Reads and checks a manifest (format version, self-checksum, shape).
 *
 * @throws {BackupNotFoundError} no manifest for this id
 * @throws {BackupCorruptedError} a tampered or damaged manifest
 * @throws {UnsupportedFormatError} an unknown format version
 */
export async function loadManifest(loc: S3Location, backupId: string, signal?: AbortSignal): Promise<Manifest> {
  const key = keys.manifest(loc, backupId);
  const found = await getObject(loc, key, signal ? { signal } : {});
  if (!found) throw new BackupNotFoundError(`backup ${backupId} has no manifest (it does not exist, or was never committed)`, [{ key, message: 'manifest missing' }]);
  const manifest = parseManifest(found.body.toString('utf8'), key);
  if (manifest.backupId !== backupId) throw new BackupCorruptedError(`manifest at ${key} names backup ${manifest.backupId}`, [{ key, message: 'backup id mismatch' }]);
  return manifest;
}

/** The newest backup with a manifest, optionally only among `ids`; undefined when none. */
export async function latestBackupId(loc: S3Location, signal?: AbortSignal): Promise<string | undefined> {
  const ids = await listBackupIds(loc, signal);
  for (let i = ids.length - 1; i >= 0; i--) {
    if (await headObject(loc, keys.manifest(loc, ids[i]!), signal)) return ids[i];
  }
  return undefined;
}

/** Checks that every segment exists with the size the manifest gives (HEAD only). */
export async function checkSegmentsPresent(loc: S3Location, manifest: Manifest, signal?: AbortSignal): Promise<void> {
  const problems: Array<{ key: string; message: string }> = [];
  for (const dataset of manifest.datasets) {
    for (const segment of dataset.segments) {
      const head = await headObject(loc, segment.key, signal);
      if (!head) problems.push({ key: segment.key, message: 'segment missing' });
      else if (head.size !== segment.bytes) problems.push({ key: segment.key, message: `size ${head.size}, manifest says ${segment.bytes}` });
    }
  }
  const missing = problems.filter((p) => p.message === 'segment missing');
  if (missing.length > 0) throw new BackupIncompleteError(`backup ${manifest.backupId} is missing ${missing.length} segment(s)`, problems);
  if (problems.length > 0) throw new BackupCorruptedError(`backup ${manifest.backupId} has segments of the wrong size`, problems);
}

/** A segment as far as reading it needs: its key and its parts' byte ranges, checksums and counts. */
export interface ReadableSegment {
  key: string;
  parts: ReadonlyArray<Pick<ManifestPart, 'number' | 'offset' | 'bytes' | 'sha256' | 'records'>>;
}

/** Downloads one part by its byte range and checks its size and SHA-256. */
export async function fetchPart(loc: S3Location, segment: ReadableSegment, part: ReadableSegment['parts'][number], signal?: AbortSignal): Promise<Buffer> {
  const found = await getObject(loc, segment.key, { range: [part.offset, part.offset + part.bytes - 1], ...(signal ? { signal } : {}) });
  if (!found) throw new BackupIncompleteError('segment missing', [{ key: segment.key, message: 'segment missing' }]);
  if (found.body.length !== part.bytes || sha256(found.body).toString('hex') !== part.sha256) {
    throw new BackupCorruptedError('a part does not match its checksum', [{ key: segment.key, part: part.number, message: 'SHA-256 mismatch' }]);
  }
  return found.body;
}

/**
 * Yields every line of a segment, part by part, after checking each part's checksum and its
 * record count. A part that does not decode is corruption.
 */
export async function* segmentLines(loc: S3Location, segment: ReadableSegment, signal?: AbortSignal): AsyncGenerator<string> {
  for (const part of segment.parts) {
    const body = await fetchPart(loc, segment, part, signal);
    let count = 0;
    // Line by line (a part may hold tens of MiB of text): a part that does not decode is corruption.
    try {
      for await (const line of gunzipLines(body)) {
        count++;
        yield line;
      }
    } catch (error) {
      if (error instanceof BackupError) throw error;
      throw new BackupCorruptedError('a part does not decode', [{ key: segment.key, part: part.number, message: 'not valid gzip NDJSON' }]);
    }
    if (count !== part.records) throw new BackupCorruptedError('a part holds another number of records', [{ key: segment.key, part: part.number, message: `${count} records, manifest says ${part.records}` }]);
  }
}
