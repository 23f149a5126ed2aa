/**
 * Finding and reading a snapshot backup: the catalog (one prefix per backup id, ids are
 * UUIDv7 so they sort by time), the manifest, and the parts of its segments by byte range.
 */
import { BackupChangedError, BackupCorruptedError, BackupError, BackupIncompleteError, BackupNotFoundError, UnsupportedFormatError } from '../errors.js';
import { sha256 } from '../format/content-hash.js';
import { parseManifest, type Manifest, type ManifestPart } from '../format/manifest.js';
import { gunzipLines } from '../format/ndjson.js';
import { resolveSegmentKeys } from '../format/segment-keys.js';
import { getObject, headObject, isPreconditionFailed, listKeys, type PageGate, type ReadPin, type S3Location } from '../s3/client.js';
import { keys } from '../target.js';
import { refuseLatestOfMixedJobs } from './latest-jobs.js';

/** Backup ids under the target, oldest first (a backup without a manifest is listed too: check `loadManifest`). */
export async function listBackupIds(loc: S3Location, signal?: AbortSignal): Promise<string[]>;
/** With a `gate` asked before each page: `undefined` when it refused one (the listing is incomplete). */
export async function listBackupIds(loc: S3Location, signal: AbortSignal | undefined, gate: PageGate): Promise<string[] | undefined>;
export async function listBackupIds(loc: S3Location, signal?: AbortSignal, gate?: PageGate): Promise<string[] | undefined> {
  const root = keys.backupsRoot(loc);
  const { prefixes, complete } = await listKeys(loc, root, { delimiter: '/', ...(signal ? { signal } : {}), ...(gate ? { gate } : {}) });
  return complete ? prefixes.map((p) => p.slice(root.length, -1)).sort() : undefined;
}

/**
 * Reads and checks a manifest (format version, self-checksum, shape, segment keys inside the
 * backup), with each segment key resolved under `<prefix>/backups/<backupId>/` of `loc`: a
 * backup copied to another prefix is read, verified and pruned there, never at the prefix it
 * was written under (format/segment-keys.ts).
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
  return resolveSegmentKeys(manifest, keys.backup(loc, backupId));
}

/** The newest backup with a manifest; undefined when none. */
export async function latestBackupId(loc: S3Location, signal?: AbortSignal): Promise<string | undefined> {
  const ids = await listBackupIds(loc, signal);
  for (let i = ids.length - 1; i >= 0; i--) {
    if (await headObject(loc, keys.manifest(loc, ids[i]!), signal)) return ids[i];
  }
  return undefined;
}

/** Whether a manifest failed to load because it is damaged or of an unknown format (not missing, not a failed read). */
function unreadable(error: unknown): error is BackupCorruptedError | UnsupportedFormatError {
  return error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError;
}

/**
 * The error for `'latest'` when the newest backup's manifest (`id`) is damaged: the same class
 * and problems, naming the newest older backup (of `job`, when given) whose manifest loads, to
 * pass by id. `'latest'` never falls back on its own: that would restore older data than asked
 * for, and let a drill of `'latest'` pass while the newest backup is broken.
 */
async function latestUnreadable(loc: S3Location, ids: string[], index: number, job: string | undefined, error: BackupCorruptedError | UnsupportedFormatError, signal?: AbortSignal): Promise<BackupError> {
  let older: Manifest | undefined;
  for (let i = index - 1; i >= 0 && older === undefined; i--) {
    const manifest = await loadManifest(loc, ids[i]!, signal).catch((e: unknown) => {
      if (e instanceof BackupNotFoundError || unreadable(e)) return undefined;
      throw e;
    });
    if (manifest !== undefined && (job === undefined || manifest.job === job)) older = manifest;
  }
  const which = job === undefined ? "'latest'" : `'latest' of job "${job}"`;
  const instead = older === undefined
    ? `no older backup${job === undefined ? '' : ` of job "${job}"`} has a readable manifest`
    : `the newest older backup with a readable manifest is ${older.backupId} (job "${older.job}"): pass its id to restore or verify it instead`;
  const message = `${which} cannot be chosen: the manifest of backup ${ids[index]!}, the newest under the prefix${job === undefined ? '' : ' (its job cannot be read)'}, is damaged or of an unknown format; nothing was restored; ${instead}`;
  const Kind = error instanceof UnsupportedFormatError ? UnsupportedFormatError : BackupCorruptedError;
  return new Kind(message, error.problems);
}

/**
 * The manifest of the newest backup (of `job`, when given: each newer manifest is read to
 * learn its job); undefined when none. Without `job`, every older manifest is read too until one
 * of another job is met (`refuseLatestOfMixedJobs`): on a one-job prefix, all of them.
 *
 * @throws {BackupCorruptedError | UnsupportedFormatError} the chosen manifest (or a newer one read for its job) is damaged; the message names the newest older backup whose manifest loads
 * @throws {ConfigurationError} without `job`, when an older backup under the prefix is of another job (field `backup.job`; latest-jobs.ts)
 */
export async function latestManifest(loc: S3Location, job: string | undefined, signal?: AbortSignal): Promise<Manifest | undefined> {
  const ids = await listBackupIds(loc, signal);
  for (let i = ids.length - 1; i >= 0; i--) {
    // Without a job, a HEAD finds the newest committed backup and its manifest is read — then,
    // to refuse a multi-job prefix, every older manifest until one of another job
    // (refuseLatestOfMixedJobs: one GET per older backup on a one-job prefix).
    if (job === undefined && !(await headObject(loc, keys.manifest(loc, ids[i]!), signal))) continue;
    let manifest: Manifest | undefined;
    try {
      manifest = await loadManifest(loc, ids[i]!, signal);
    } catch (error) {
      if (error instanceof BackupNotFoundError) continue;
      if (unreadable(error)) throw await latestUnreadable(loc, ids, i, job, error, signal);
      throw error;
    }
    if (job === undefined) await refuseLatestOfMixedJobs(loc, ids, i, manifest, loadManifest, signal);
    if (job === undefined || manifest.job === job) return manifest;
  }
  return undefined;
}

/**
 * What a segment was when it was checked: later reads are pinned to it. `headVersionId` is the
 * version id its HEAD gave; it becomes the pin's `versionId` once a GET returns the same one
 * (gofakes3 gives HEADs a version id even in an unversioned bucket, which GET does not honour).
 */
export type SegmentPin = ReadPin & { headVersionId?: string };

/** Pins by segment key. */
export type SegmentPins = Map<string, SegmentPin>;

/**
 * Checks that every segment exists with the size the manifest gives (HEAD only); resolves to
 * each segment's ETag and version id, to pin later reads to the objects checked here.
 *
 * @throws {BackupIncompleteError} a segment is missing
 * @throws {BackupCorruptedError} a segment has another size
 */
export async function checkSegmentsPresent(loc: S3Location, manifest: Manifest, signal?: AbortSignal): Promise<SegmentPins> {
  const problems: Array<{ key: string; message: string }> = [];
  const pins: SegmentPins = new Map();
  for (const dataset of manifest.datasets) {
    for (const segment of dataset.segments) {
      const head = await headObject(loc, segment.key, signal);
      if (!head) problems.push({ key: segment.key, message: 'segment missing' });
      else if (head.size !== segment.bytes) problems.push({ key: segment.key, message: `size ${head.size}, manifest says ${segment.bytes}` });
      else pins.set(segment.key, { ifMatch: head.etag, ...(head.versionId ? { headVersionId: head.versionId } : {}) });
    }
  }
  const missing = problems.filter((p) => p.message === 'segment missing');
  if (missing.length > 0) throw new BackupIncompleteError(`backup ${manifest.backupId} is missing ${missing.length} segment(s)`, problems);
  if (problems.length > 0) throw new BackupCorruptedError(`backup ${manifest.backupId} has segments of the wrong size`, problems);
  return pins;
}

/**
 * Checks the segments again against their pins (HEAD only).
 * @throws {BackupChangedError} (`written: false`) a segment was replaced or deleted since it was pinned
 */
export async function checkPinsHold(loc: S3Location, manifest: Manifest, pins: SegmentPins, signal?: AbortSignal): Promise<void> {
  const problems: Array<{ key: string; message: string }> = [];
  for (const dataset of manifest.datasets) {
    for (const segment of dataset.segments) {
      const head = await headObject(loc, segment.key, signal);
      const pin = pins.get(segment.key);
      // In a versioned bucket the pinned version stays readable whatever the current one is.
      if (pin?.versionId) continue;
      if (!head) problems.push({ key: segment.key, message: 'deleted after it was verified' });
      else if (head.etag !== pin?.ifMatch) problems.push({ key: segment.key, message: 'replaced after it was verified (ETag changed)' });
    }
  }
  if (problems.length > 0) throw new BackupChangedError(`backup ${manifest.backupId} changed after it was verified; nothing was written`, problems, false);
}

/** A segment as far as reading it needs: its key and its parts' byte ranges, checksums and counts. */
export interface ReadableSegment {
  key: string;
  parts: ReadonlyArray<Pick<ManifestPart, 'number' | 'offset' | 'bytes' | 'sha256' | 'records'>>;
}

/** Reads one part's bytes (from S3, or from a restore's spool). */
export type PartReader = (segment: ReadableSegment, part: ReadableSegment['parts'][number]) => Promise<Buffer>;

/** @throws {BackupCorruptedError} `body` is not the part the manifest describes (size or SHA-256) */
export function checkPartBody(segment: ReadableSegment, part: ReadableSegment['parts'][number], body: Buffer): Buffer {
  if (body.length !== part.bytes || sha256(body).toString('hex') !== part.sha256) {
    throw new BackupCorruptedError('a part does not match its checksum', [{ key: segment.key, part: part.number, message: 'SHA-256 mismatch' }]);
  }
  return body;
}

/**
 * Downloads one part by its byte range and checks its size and SHA-256. With a `pin`, the read
 * must return the object that was pinned: `If-Match` (a 412 from S3 and moto), `VersionId`
 * (versioned buckets), and the returned ETag compared (gofakes3 ignores `If-Match` on GET).
 *
 * @throws {BackupIncompleteError} the segment is missing (unpinned read)
 * @throws {BackupChangedError} (`written: false`) a pinned segment was replaced or deleted
 * @throws {BackupCorruptedError} the bytes do not match the part's size and SHA-256
 */
export async function fetchPart(loc: S3Location, segment: ReadableSegment, part: ReadableSegment['parts'][number], signal?: AbortSignal, pin?: SegmentPin): Promise<Buffer> {
  const changed = (message: string): BackupChangedError =>
    new BackupChangedError('a backup segment changed after it was verified', [{ key: segment.key, part: part.number, message }], false);
  let found;
  try {
    const condition: ReadPin = pin ? { ...(pin.ifMatch ? { ifMatch: pin.ifMatch } : {}), ...(pin.versionId ? { versionId: pin.versionId } : {}) } : {};
    found = await getObject(loc, segment.key, { range: [part.offset, part.offset + part.bytes - 1], ...(signal ? { signal } : {}), ...condition });
  } catch (error) {
    if (pin && isPreconditionFailed(error)) throw changed('replaced (If-Match failed)');
    throw error;
  }
  if (!found && pin) throw changed('deleted');
  if (!found) throw new BackupIncompleteError('segment missing', [{ key: segment.key, message: 'segment missing' }]);
  if (pin?.ifMatch && !pin.versionId && found.etag !== pin.ifMatch) throw changed('replaced (ETag changed)');
  const body = checkPartBody(segment, part, found.body);
  // A version both HEAD and GET report is real (a versioned bucket): later reads ask for it.
  if (pin && !pin.versionId && found.versionId !== undefined && found.versionId === pin.headVersionId) pin.versionId = found.versionId;
  return body;
}

/**
 * Yields every line of a segment, part by part, after checking each part's checksum and its
 * record count. A part that does not decode is corruption. `read` replaces the unpinned S3
 * read (a pinned read, a spool).
 */
export async function* segmentLines(loc: S3Location, segment: ReadableSegment, signal?: AbortSignal, read?: PartReader): AsyncGenerator<string> {
  for (const part of segment.parts) {
    // The whole part is read and checked before any of its lines is given out.
    const body = read ? await read(segment, part) : await fetchPart(loc, segment, part, signal);
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
