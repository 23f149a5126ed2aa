/**
 * The full check of a snapshot's data: every segment present at its size, every part's
 * SHA-256, every part decoding to its record count, every dataset's count and content hash
 * equal to the manifest's. Used by `restore` before it writes anything and by
 * `verifyBackup({ level: 'full' })`.
 */
import { BackupCorruptedError, type BackupProblem } from '../errors.js';
import { ContentHash } from '../format/content-hash.js';
import type { Manifest, ManifestDataset } from '../format/manifest.js';
import { recordDigest } from '../format/records.js';
import type { S3Location } from '../s3/client.js';
import { checkSegmentsPresent, fetchPart, segmentLines, type PartReader, type SegmentPins } from './load.js';

/** What the check read. */
export interface DataCheck {
  /** Records the target refused (`check`), at most 20 listed. */
  unsupported: BackupProblem[];
  unsupportedCount: number;
  datasets: Array<{ name: string; count: number; contentHash: string }>;
  bytes: number;
  records: number;
  /** Each segment as it was checked (ETag, version id): later reads are pinned to it. */
  pins: SegmentPins;
}

/** Every line of a dataset, checked part by part; `read` replaces the unpinned S3 read. */
export async function* datasetLines(loc: S3Location, dataset: ManifestDataset, signal?: AbortSignal, read?: PartReader): AsyncGenerator<string> {
  for (const segment of dataset.segments) yield* segmentLines(loc, segment, signal, read);
}

/**
 * Reads the whole backup and checks it. Every part is read pinned to the segment its HEAD
 * found (see `fetchPart`); `keep` is given each checked part's bytes (a restore's spool).
 *
 * @throws {BackupIncompleteError} a missing segment
 * @throws {BackupCorruptedError} a size, checksum, count or content-hash mismatch, or a part that does not decode
 * @throws {BackupChangedError} a segment was replaced or deleted while it was being checked
 */
export async function checkData(
  loc: S3Location,
  manifest: Manifest,
  options: { check?: (dataset: ManifestDataset, line: string) => string | undefined; keep?: (segmentKey: string, part: number, body: Buffer) => Promise<void>; signal?: AbortSignal } = {},
): Promise<DataCheck> {
  const pins = await checkSegmentsPresent(loc, manifest, options.signal);
  const read: PartReader = async (segment, part) => {
    const body = await fetchPart(loc, segment, part, options.signal, pins.get(segment.key));
    await options.keep?.(segment.key, part.number, body);
    return body;
  };
  const result: DataCheck = { unsupported: [], unsupportedCount: 0, datasets: [], bytes: 0, records: 0, pins };
  const mismatches: BackupProblem[] = [];
  for (const dataset of manifest.datasets) {
    const hash = new ContentHash();
    let count = 0;
    for await (const line of datasetLines(loc, dataset, options.signal, read)) {
      count++;
      let digest: Uint8Array;
      try {
        digest = recordDigest(dataset.kind, line);
      } catch {
        throw new BackupCorruptedError(`a record of ${dataset.name} does not parse`, [{ key: dataset.name, message: `record ${count} is not valid` }]);
      }
      hash.add(digest);
      let problem: string | undefined;
      try {
        problem = options.check?.(dataset, line);
      } catch (error) {
        problem = `cannot be decoded (${(error as Error).name})`;
      }
      if (problem) {
        result.unsupportedCount++;
        if (result.unsupported.length < 20) result.unsupported.push({ key: dataset.name, message: `record ${count}: ${problem}` });
      }
    }
    if (count !== dataset.count) mismatches.push({ key: dataset.name, message: `${count} records, manifest says ${dataset.count}` });
    else if (hash.toHex() !== dataset.contentHash) mismatches.push({ key: dataset.name, message: 'content hash differs from the manifest' });
    result.datasets.push({ name: dataset.name, count, contentHash: hash.toHex() });
    result.records += count;
    result.bytes += dataset.segments.reduce((s, g) => s + g.bytes, 0);
  }
  if (mismatches.length > 0) throw new BackupCorruptedError(`backup ${manifest.backupId} does not match its manifest`, mismatches);
  return result;
}
