/**
 * A snapshot's manifest: its body made of the checkpoint (each dataset's segments, counts and
 * content hash) and committed with `If-None-Match: *`, so that of two runs of a job only one
 * manifest stands and a retried commit adopts its own. Apart from run.ts, which decides when.
 */
import { ContentHash } from '../format/content-hash.js';
import { FencedError } from '../errors.js';
import { MANIFEST_FORMAT_VERSION, parseManifest, segmentChecksum, serializeManifest, type ManifestBody, type ManifestDataset, type PositionMark } from '../format/manifest.js';
import { getObject, type S3Location } from '../s3/client.js';
import { putIfAbsent } from '../s3/conditional.js';
import type { S3Capabilities } from '../s3/probe.js';
import type { SourceDescription } from '../sources/types.js';
import { keys } from '../target.js';
import { VERSION } from '../version.js';
import type { SnapshotCheckpoint } from './checkpoint.js';
import type { CheckpointDataset } from './copy.js';

/** A dataset's manifest entry: its segments, record count and content hash, from the checkpoint's parts. */
function manifestDataset(ds: CheckpointDataset, info: SourceDescription['datasets'][number]): ManifestDataset {
  const hash = new ContentHash();
  let count = 0;
  const segments = ds.segments.map((segment) => {
    for (const p of segment.parts) {
      hash.add(Buffer.from(p.digest, 'hex'));
      count += p.records;
    }
    return {
      key: segment.key,
      bytes: segment.parts.reduce((s, p) => s + p.bytes, 0),
      sha256: segmentChecksum(segment.parts),
      records: segment.parts.reduce((s, p) => s + p.records, 0),
      rawBytes: segment.parts.reduce((s, p) => s + p.rawBytes, 0),
      firstKey: segment.parts[0]?.firstKey ?? '',
      lastKey: segment.parts.at(-1)?.lastKey ?? '',
      parts: segment.parts.map(({ number, offset, bytes, sha256, crc32, records, rawBytes, firstKey, lastKey }) => ({ number, offset, bytes, sha256, crc32, records, rawBytes, firstKey, lastKey })),
    };
  });
  return {
    name: ds.name,
    kind: info.kind,
    count,
    contentHash: hash.toHex(),
    encoding: info.encoding,
    ...(info.options ? { options: info.options } : {}),
    ...(info.indexes ? { indexes: info.indexes } : {}),
    segments,
  };
}

/** The manifest of the backup `current` holds, every dataset done, ending at `end`. */
export function manifestBody(current: SnapshotCheckpoint, job: string, end: PositionMark, capabilities: Pick<S3Capabilities, 'ifNoneMatch' | 'ifMatch' | 'serverChecksums'>): ManifestBody {
  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    tool: { name: '@steadyfn/backup', version: VERSION },
    backupId: current.backupId,
    job,
    kind: 'snapshot',
    source: {
      kind: current.description.kind,
      engine: current.description.engine,
      serverVersion: current.description.serverVersion,
      ...(current.description.database === undefined ? {} : { database: current.description.database }),
      ...(current.description.rdbVersion === undefined ? {} : { rdbVersion: current.description.rdbVersion }),
      ...(current.description.cluster === undefined ? {} : { cluster: current.description.cluster }),
    },
    consistency: 'fuzzy',
    start: current.start,
    end,
    encoding: current.description.kind === 'mongodb' ? 'ejson-canonical-v2' : 'redis-v1',
    compression: 'gzip-member-per-part',
    datasets: current.datasets.map((ds) => manifestDataset(ds, current.description.datasets.find((d) => d.name === ds.name)!)),
    warnings: current.warnings,
    ...(current.description.views === undefined || current.description.views.length === 0 ? {} : { views: current.description.views }),
    storage: { conditionalWrites: capabilities.ifNoneMatch && capabilities.ifMatch, serverChecksums: capabilities.serverChecksums },
  };
}

/**
 * Writes the manifest unless one exists; one that does is adopted when it is this backup's (an
 * earlier attempt that died before removing the checkpoint).
 * @throws {FencedError} a different manifest exists at the key
 */
export async function commitManifest(loc: S3Location, caps: { ifNoneMatch: boolean }, body: ManifestBody, signal?: AbortSignal): Promise<void> {
  const key = keys.manifest(loc, body.backupId);
  const written = await putIfAbsent(loc, caps, key, serializeManifest(body), signal ? { signal } : {});
  if (written.written) return;
  // A manifest is already there: ours from an earlier attempt that died before removing the checkpoint.
  const existing = await getObject(loc, key, signal ? { signal } : {});
  const manifest = existing ? parseManifest(existing.body.toString('utf8'), key) : undefined;
  if (manifest?.backupId !== body.backupId) throw new FencedError(`a different manifest exists at ${key}`);
}
