/**
 * One segment = one multipart upload of gzip-member parts. Parts are uploaded with at most
 * `partsInFlight` in flight: `submit` waits for a free slot before it returns, so the producer
 * (cursor → NDJSON → gzip) is held back and memory stays at part size × parts in flight
 * (lib-storage's `Upload` has no such backpressure). A part's buffer goes back to its pool when
 * its upload returns. Parts finish in any order; `onProgress`
 * is told whenever the run of finished parts from part 1 grows, which is what a checkpoint
 * may record.
 */
import type { EncodedPart } from '../format/gzip-part.js';
import type { S3Location } from '../s3/client.js';
import { abortUpload, completeUpload, uploadPart } from '../s3/multipart.js';
import type { DonePart } from './checkpoint.js';
import { completedSegment } from './completed-segment.js';

export type { DonePart } from './checkpoint.js';

export interface SegmentOptions {
  loc: S3Location;
  key: string;
  uploadId: string;
  /** Parts already in the upload (from a checkpoint), in order from 1. */
  parts: DonePart[];
  partsInFlight: number;
  /** Send our CRC32 with each part (the server checks it). */
  serverChecksums: boolean;
  /** Called with the contiguous finished parts whenever they grow. */
  onProgress: (parts: DonePart[]) => void;
  signal?: AbortSignal;
}

/** A segment being written. */
export class SegmentUpload {
  readonly key: string;
  readonly uploadId: string;
  private readonly done: DonePart[];
  private readonly waiting = new Map<number, DonePart>();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private nextNumber: number;
  private nextOffset: number;
  /** Milliseconds the last part took to upload. */
  lastUploadMs = 0;

  constructor(private readonly options: SegmentOptions) {
    this.key = options.key;
    this.uploadId = options.uploadId;
    this.done = [...options.parts];
    this.nextNumber = this.done.length + 1;
    this.nextOffset = this.done.reduce((sum, p) => sum + p.bytes, 0);
  }

  /** Number the next part will get. */
  get partNumber(): number {
    return this.nextNumber;
  }

  /** Compressed bytes submitted to this segment so far. */
  get bytes(): number {
    return this.nextOffset;
  }

  /** Uploads `part` in the background; resolves once a slot is free for the next one. */
  async submit(part: EncodedPart, extra: { digest: string; resume: unknown }): Promise<void> {
    if (this.failure) throw this.failure;
    const number = this.nextNumber++;
    const offset = this.nextOffset;
    this.nextOffset += part.bytes;
    const started = Date.now();
    const run = uploadPart(this.options.loc, this.key, this.uploadId, number, part.body, {
      ...(this.options.serverChecksums ? { crc32: part.crc32 } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    }).then(
      (etag) => {
        this.lastUploadMs = Date.now() - started;
        const { body: _body, release, ...facts } = part;
        release();
        this.finished({ ...facts, number, etag, offset, digest: extra.digest, resume: extra.resume });
      },
      (error: unknown) => {
        part.release();
        this.failure ??= error;
      },
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    while (this.inFlight.size >= this.options.partsInFlight && !this.failure) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private finished(part: DonePart): void {
    this.waiting.set(part.number, part);
    let grew = false;
    for (let next = this.waiting.get(this.done.length + 1); next; next = this.waiting.get(this.done.length + 1)) {
      this.waiting.delete(next.number);
      this.done.push(next);
      grew = true;
    }
    if (grew) this.options.onProgress([...this.done]);
  }

  /** Waits for every part in flight; rejects with the first upload failure. */
  async drain(): Promise<DonePart[]> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    return [...this.done];
  }

  /** Waits for the parts in flight, ignoring failures (before a checkpoint at the deadline). */
  async settle(): Promise<DonePart[]> {
    await Promise.allSettled(this.inFlight);
    return [...this.done];
  }

  /**
   * Completes the upload from the finished parts. A `NoSuchUpload` answer is taken as done when
   * the object at the key is made of exactly these parts (completed-segment.ts): the SDK resent
   * a completion whose first attempt S3 applied and whose reply was lost.
   */
  async complete(): Promise<DonePart[]> {
    const parts = await this.drain();
    const signal = this.options.signal;
    try {
      await completeUpload(this.options.loc, this.key, this.uploadId, parts.map((p) => ({ number: p.number, etag: p.etag, ...(this.options.serverChecksums ? { crc32: p.crc32 } : {}) })), signal ? { signal } : {});
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name !== 'NoSuchUpload' || (await completedSegment(this.options.loc, this.key, parts, signal)) !== 'completed') throw error;
    }
    return parts;
  }

  /** Aborts the upload (S3 discards its parts). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await abortUpload(this.options.loc, this.key, this.uploadId);
  }
}
