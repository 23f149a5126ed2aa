/**
 * Copies one dataset: source records → NDJSON → a gzip member per part → multipart upload,
 * segment after segment. Stops starting parts when told to (the deadline nears); the part
 * being built is then dropped and its records are read again on resume.
 */
import { BackupError, sourceErrorOf } from '../errors.js';
import { ContentHash } from '../format/content-hash.js';
import { GzipPartEncoder } from '../format/gzip-part.js';
import { PartBuffers } from '../format/part-buffers.js';
import { createUpload } from '../s3/multipart.js';
import { MAX_PARTS, partTarget } from '../s3/part-size.js';
import { keys } from '../target.js';
import { segmentLines } from '../restore/load.js';
import type { DatasetInfo } from '../sources/types.js';
import { SegmentUpload } from './segment.js';
import type { CheckpointDataset } from './checkpoint.js';
import type { ResolvedSnapshotOptions } from './options.js';
import type { S3Location } from '../s3/client.js';

export type { CheckpointDataset } from './checkpoint.js';

/** What the copy needs from the run. */
export interface CopyContext {
  options: ResolvedSnapshotOptions;
  loc: S3Location;
  backupId: string;
  serverChecksums: boolean;
  signal?: AbortSignal;
  /** Persist progress (the checkpoint); resolves once it (or a newer state) is stored. Failures also surface through `failure`. */
  save: () => Promise<void>;
  /** True when no new part should be started (deadline, lost lease). */
  shouldStop: (estimatedPartMs: number) => boolean;
  /** A failure from saving the checkpoint or renewing the lease: rethrown at once. */
  failure: () => unknown;
}

/** The source's records; a failure reading them becomes a `SourceReadError`, or a `SourceRefusedError` for refused credentials (class and code only). */
async function* fromSource<T>(records: AsyncIterable<T>, dataset: string): AsyncGenerator<T> {
  const iterator = records[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await iterator.next();
      } catch (error) {
        finished = true;
        // Our own refusals (a damaged resume point, a changed Cluster) keep their class.
        if (error instanceof BackupError) throw error;
        throw sourceErrorOf(error, `reading ${dataset} from the source`);
      }
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Stopped early (deadline, failure downstream): close the source's cursor.
    if (!finished) await iterator.return?.();
  }
}

/** The lines of the dataset's sealed segments, part by part (checked as a restore checks them). */
async function* writtenLines(loc: S3Location, ds: CheckpointDataset, signal?: AbortSignal): AsyncGenerator<string> {
  for (const segment of ds.segments) yield* segmentLines(loc, segment, signal);
}

/** Where to resume reading: the resume point of the last finished part, if any. */
export function resumePoint(ds: CheckpointDataset): unknown {
  const parts = ds.current?.parts.length ? ds.current.parts : ds.segments.at(-1)?.parts;
  return parts?.at(-1)?.resume;
}

/** Copies `info` into `ds` until done (`'done'`) or told to stop (`'stopped'`, with the open segment's uploads settled). */
export async function copyDataset(run: CopyContext, ds: CheckpointDataset, info: DatasetInfo): Promise<{ outcome: 'done' | 'stopped'; segment?: SegmentUpload }> {
  const { options, loc } = run;
  let segment: SegmentUpload | undefined;
  const segmentFor = (current: NonNullable<CheckpointDataset['current']>): SegmentUpload =>
    new SegmentUpload({
      loc,
      key: current.key,
      uploadId: current.uploadId,
      parts: current.parts,
      partsInFlight: options.plan.partsInFlight,
      serverChecksums: run.serverChecksums,
      onProgress: (parts) => {
        if (ds.current && ds.current.uploadId === current.uploadId) ds.current.parts = parts;
        void run.save();
      },
      ...(run.signal ? { signal: run.signal } : {}),
    });
  if (ds.current) segment = segmentFor(ds.current);

  const openSegment = async (): Promise<SegmentUpload> => {
    const index = ds.segments.length;
    const key = keys.segment(loc, run.backupId, ds.name, index);
    const uploadId = await createUpload(loc, key, { checksums: run.serverChecksums, ...(run.signal ? { signal: run.signal } : {}) });
    ds.current = { index, key, uploadId, parts: [] };
    void run.save();
    return (segment = segmentFor(ds.current));
  };
  const closeSegment = async (open: SegmentUpload): Promise<void> => {
    // Every part in the checkpoint before the upload is completed: a run killed between the two
    // leaves a checkpoint the next run recognises the completed object by (completed-segment.ts).
    ds.current!.parts = await open.drain();
    await run.save();
    const parts = await open.complete();
    ds.segments.push({ index: ds.current!.index, key: open.key, parts });
    delete ds.current;
    segment = undefined;
    void run.save();
  };

  // At most parts in flight + 1 part buffers, reused for the whole dataset.
  const buffers = new PartBuffers();
  let encoder: GzipPartEncoder | undefined;
  let digest = new ContentHash();
  let resume: unknown;
  let partStarted = Date.now();
  let estimateMs = 0;
  const emit = async (): Promise<void> => {
    const part = await encoder!.finish();
    encoder = undefined;
    const open = segment ?? (await openSegment());
    await open.submit(part, { digest: digest.toHex(), resume });
    digest = new ContentHash();
    estimateMs = Math.max(Date.now() - partStarted, open.lastUploadMs);
    partStarted = Date.now();
    if (open.bytes >= options.segmentBytes || open.partNumber > MAX_PARTS) await closeSegment(open);
  };

  // A failure (a part's upload, the source, the checkpoint) waits for the parts in flight first:
  // the checkpoint then records every part S3 acknowledged, for a run that keeps the upload open
  // (run-failure.ts).
  try {
    let seen = 0;
    // The clock (and a failure) before the source is read: opening it may take seconds (FerretDB
    // sorts the whole collection before its first document), which a run with no time left must
    // not spend. The first record is checked again (the loop below), for the time the opening took.
    const failed = run.failure();
    if (failed) throw failed;
    let stopped = run.shouldStop(estimateMs);
    const resumeFrom = resumePoint(ds);
    // On a resume, what the backup already holds (sealed segments) for sources that drop repeats.
    const history = resumeFrom === undefined ? undefined : writtenLines(loc, ds, run.signal);
    if (!stopped) for await (const record of fromSource(options.source.read(info, resumeFrom, run.signal, history), ds.name)) {
      if (encoder === undefined || (++seen & 255) === 0) {
        const failure = run.failure();
        if (failure) throw failure;
        if (run.shouldStop(estimateMs)) {
          stopped = true;
          break;
        }
      }
      if (!encoder) {
        encoder = new GzipPartEncoder(options.compressionLevel, partTarget(options.plan, segment?.partNumber ?? 1), buffers);
        partStarted = Date.now();
      }
      const pending = encoder.add(record.line, record.key);
      if (pending) await pending;
      digest.add(record.digest);
      resume = record.resume;
      if (encoder.compressedBytes >= partTarget(options.plan, segment?.partNumber ?? 1)) await emit();
    }
    if (stopped) {
      encoder?.discard();
      if (segment) await segment.settle();
      return segment ? { outcome: 'stopped', segment } : { outcome: 'stopped' };
    }
    if (encoder && encoder.records > 0) await emit();
    if (segment) await closeSegment(segment);
    ds.done = true;
    void run.save();
    return { outcome: 'done' };
  } catch (error) {
    if (segment) await segment.settle();
    throw error;
  }
}
