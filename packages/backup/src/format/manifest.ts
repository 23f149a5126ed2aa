/**
 * `manifest.json`: what a snapshot backup holds, written last (`If-None-Match: *`) so that a
 * backup exists only once its manifest does. It ends with a self-checksum: the SHA-256 of the
 * canonical JSON of everything else (the idea of PostgreSQL's `backup_manifest`).
 *
 * Format version 1. A reader refuses any other version (`UnsupportedFormatError`).
 */
import { z } from 'zod';
import { BackupCorruptedError, UnsupportedFormatError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { sha256 } from './content-hash.js';
import { checkSegmentKeys } from './segment-keys.js';

/** The manifest format this version writes and reads. */
export const MANIFEST_FORMAT_VERSION = 1;

/** 64 lower-case hex digits (a SHA-256 or a content hash). */
export const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const partSchema = z.object({
  number: z.number().int().min(1).max(10_000),
  offset: z.number().int().min(0),
  bytes: z.number().int().min(1),
  sha256: hex64,
  crc32: z.string(),
  records: z.number().int().min(0),
  rawBytes: z.number().int().min(0),
  firstKey: z.string(),
  lastKey: z.string(),
});

const segmentSchema = z.object({
  /**
   * The segment's key as written (`<prefix>/backups/<id>/data/<dataset>/<n>.ndjson.gz`). Readers
   * take the part after `backups/<id>/` and resolve it under the folder the manifest was read
   * from (`loadManifest`; format/segment-keys.ts); a key outside its backup is refused.
   */
  key: z.string().min(1),
  bytes: z.number().int().min(0),
  /** SHA-256 over the concatenated binary SHA-256 digests of the parts, in order (resumable: no hash state to carry). */
  sha256: hex64,
  records: z.number().int().min(0),
  rawBytes: z.number().int().min(0),
  firstKey: z.string(),
  lastKey: z.string(),
  parts: z.array(partSchema),
});

export const indexSchema = z.object({ name: z.string(), key: z.record(z.string(), z.unknown()), options: z.record(z.string(), z.unknown()) });

const datasetSchema = z.object({
  /** Collection name, or `keyspace:<pattern>` for Redis. */
  name: z.string().min(1),
  kind: z.enum(['mongodb-collection', 'redis-keyspace']),
  count: z.number().int().min(0),
  /** Order-independent content hash (sum of per-record SHA-256, mod 2^256). */
  contentHash: hex64,
  /** MongoDB: collection options from listCollections (capped, validator, collation, timeseries…). */
  options: z.record(z.string(), z.unknown()).optional(),
  /** MongoDB: every index except `_id_`, TTL (`expireAfterSeconds`) included. */
  indexes: z.array(indexSchema).optional(),
  /** Redis: how values are encoded (`dump`: DUMP payloads; `typed`: typed JSON). */
  encoding: z.enum(['ejson', 'dump', 'typed', 'mixed']),
  segments: z.array(segmentSchema),
});

/**
 * MongoDB: a view's definition (a view holds no documents). Added by a later version, optional:
 * an earlier reader drops the field (its restore recreates no view) and still repeats the
 * manifest's `MONGODB_VIEW_DEFINITION_SAVED` warning lines that name each view.
 */
export const viewSchema = z.object({
  name: z.string().min(1),
  /** The collection (or view) it reads from. */
  viewOn: z.string().min(1),
  /** Canonical Extended JSON v2 text of the pipeline: its stages' keys in the order the server gave them (a `$sort`'s order matters; MongoDB TOOLS-3411). */
  pipeline: z.string(),
  /** The view's collation (canonical Extended JSON v2), when it has one. */
  collation: z.record(z.string(), z.unknown()).optional(),
});

/** The server behind a backup (engine, version; Redis: RDB version, whether a Cluster). */
export const sourceServerSchema = z.object({
  kind: z.enum(['mongodb', 'redis']),
  engine: z.string(),
  serverVersion: z.string(),
  database: z.string().optional(),
  rdbVersion: z.number().int().optional(),
  cluster: z.boolean().optional(),
});

export const markSchema = z.object({
  /**
   * Wall-clock time of the runner (ISO). In `end`, never earlier than S3's clock (its `Date`
   * header, read once every segment was written) since this version: retention and
   * point-in-time restore judge a backup by it. Manifests written before may carry a runner's
   * clock that was behind.
   */
  time: z.string(),
  /** The source server's clock (ISO), when it reports one. */
  serverTime: z.string().optional(),
  /** The position of the named stream backup (its checkpoint) at that moment. */
  stream: z.object({ name: z.string(), timeline: z.number().int().min(1), seq: z.number().int().min(0), position: z.string().nullable() }).optional(),
});

const bodySchema = z.object({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  tool: z.object({ name: z.literal('@steadyfn/backup'), version: z.string() }),
  backupId: z.string().min(1),
  job: z.string().min(1),
  kind: z.literal('snapshot'),
  source: sourceServerSchema,
  consistency: z.enum(['fuzzy', 'consistent']),
  start: markSchema,
  end: markSchema,
  encoding: z.enum(['ejson-canonical-v2', 'redis-v1']),
  compression: z.literal('gzip-member-per-part'),
  datasets: z.array(datasetSchema),
  warnings: z.array(z.string()),
  /** MongoDB: the views of the database (`mongoSource` without `collections`), recreated by a restore after the collections. */
  views: z.array(viewSchema).optional(),
  /** Storage facts found by the probe (for the record; restore does not depend on them). */
  storage: z.object({ conditionalWrites: z.boolean(), serverChecksums: z.boolean() }),
});

/** A manifest without its self-checksum. */
export type ManifestBody = z.infer<typeof bodySchema>;
/** A committed manifest. */
export type Manifest = ManifestBody & { selfChecksum: { algorithm: 'sha256'; value: string } };
export type ManifestDataset = z.infer<typeof datasetSchema>;
export type ManifestSegment = z.infer<typeof segmentSchema>;
export type ManifestPart = z.infer<typeof partSchema>;
export type ManifestView = z.infer<typeof viewSchema>;
export type PositionMark = z.infer<typeof markSchema>;

/** Serialises `body` with its self-checksum as the last member. */
export function serializeManifest(body: ManifestBody): string {
  const value = sha256(canonicalJson(body)).toString('hex');
  const withChecksum: Manifest = { ...body, selfChecksum: { algorithm: 'sha256', value } };
  return `${JSON.stringify(withChecksum, null, 1)}\n`;
}

/**
 * Parses and checks a manifest: JSON, format version, self-checksum, then shape.
 *
 * @throws {UnsupportedFormatError} another `formatVersion`
 * Segment keys are checked to name segments of this backup (`data/<dataset>/<file>` under
 * `backups/<backupId>/`) but returned as written; `loadManifest` resolves them under the folder
 * the manifest was read from.
 *
 * @throws {BackupCorruptedError} not JSON, a self-checksum mismatch (tampered or damaged), a shape error, or a segment key outside its backup (the problem names the field)
 */
export function parseManifest(text: string, key: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BackupCorruptedError('manifest is not JSON', [{ key, message: 'not JSON' }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BackupCorruptedError('manifest is not an object', [{ key, message: 'not an object' }]);
  const { selfChecksum, ...body } = raw as Record<string, unknown>;
  if (body.formatVersion !== MANIFEST_FORMAT_VERSION) {
    throw new UnsupportedFormatError(`manifest format version ${JSON.stringify(body.formatVersion)} is not supported (this version reads ${MANIFEST_FORMAT_VERSION})`, [
      { key, message: 'unknown format version' },
    ]);
  }
  const claimed = (selfChecksum as { algorithm?: unknown; value?: unknown } | undefined) ?? {};
  const actual = sha256(canonicalJson(body)).toString('hex');
  if (claimed.algorithm !== 'sha256' || claimed.value !== actual) {
    throw new BackupCorruptedError('manifest self-checksum does not match its content', [{ key, message: 'self-checksum mismatch' }]);
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new BackupCorruptedError('manifest has an invalid shape', [{ key, message: `${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}` }]);
  }
  checkSegmentKeys(parsed.data, key);
  return { ...parsed.data, selfChecksum: { algorithm: 'sha256', value: actual } };
}

/** SHA-256 over the concatenated binary digests of the parts: a segment's checksum. */
export function segmentChecksum(parts: ReadonlyArray<{ sha256: string }>): string {
  return sha256(Buffer.concat(parts.map((p) => Buffer.from(p.sha256, 'hex')))).toString('hex');
}
