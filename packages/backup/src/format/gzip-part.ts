/**
 * One multipart part = one complete gzip member (RFC 1952) holding whole NDJSON lines. A part
 * can then be checked or decoded alone (a ranged GET of its byte range), and a resume needs no
 * compressor state: a segment is the concatenation of its members, which Node's zlib,
 * `gzip -d`/`gzip -t` and Python's `gzip` module read as one stream (multi-member gzip).
 *
 * Memory: the buffer the member is compressed into (reused part after part: `PartBuffers`),
 * plus one raw chunk.
 */
import { createHash } from 'node:crypto';
import { constants, createGzip, crc32, type Gzip } from 'node:zlib';
import { PartBuffers } from './part-buffers.js';

/** A finished part: its compressed bytes and what the manifest records about it. */
export interface EncodedPart {
  /** The compressed bytes (a view of a reused buffer: valid until `release()`). */
  body: Buffer;
  /** Compressed size in bytes. */
  bytes: number;
  /** SHA-256 of the compressed bytes, hex. */
  sha256: string;
  /** CRC-32 (IEEE) of the compressed bytes, as S3's `x-amz-checksum-crc32` encodes it (base64 of the big-endian value). */
  crc32: string;
  /** Uncompressed size in bytes (lines and newlines). */
  rawBytes: number;
  records: number;
  /** Sort key of the first and last record (e.g. canonical EJSON of `_id`). */
  firstKey: string;
  lastKey: string;
  /** Gives the buffer back for the next part (after the upload returned). */
  release(): void;
}

/** Raw text handed to the compressor at once (characters; a chunk is one Buffer, not one per line). */
const CHUNK_CHARS = 256 * 1024;
/**
 * Room over the part's target for what is still pending when the target is reached (at most a
 * chunk of text and what the compressor holds, ~1 MiB): a quarter, as the memory budget
 * reckons (`part-size.ts`). A part that needs more moves to a bigger buffer.
 */
const SLACK = 0.25;

/** Builds one gzip member from whole lines, into a buffer from `buffers`. */
export class GzipPartEncoder {
  private readonly gzip: Gzip;
  private readonly buffers: PartBuffers;
  private out: Buffer;
  private compressed = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private failure: Error | undefined;
  /** Uncompressed bytes added so far (counted as chunks go to the compressor). */
  rawBytes = 0;
  /** Lines added so far. */
  records = 0;
  firstKey = '';
  lastKey = '';

  /**
   * @param level gzip level 1–9
   * @param targetBytes the part's target size (the buffer holds it plus slack, and grows if needed)
   * @param buffers where the buffer comes from and goes back to
   */
  constructor(level: number = constants.Z_DEFAULT_COMPRESSION, targetBytes = 5 * 1024 * 1024, buffers: PartBuffers = new PartBuffers()) {
    this.buffers = buffers;
    this.out = buffers.acquire(Math.ceil(targetBytes * (1 + SLACK)));
    this.gzip = createGzip({ level });
    this.gzip.on('data', (chunk: Buffer) => this.append(chunk));
    this.gzip.on('error', (error) => (this.failure = error));
  }

  private append(chunk: Buffer): void {
    if (this.compressed + chunk.length > this.out.length) {
      // More than the slack: a bigger buffer (rare), the old one goes back.
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.compressed + chunk.length));
      this.out.copy(bigger, 0, 0, this.compressed);
      this.buffers.release(this.out);
      this.out = bigger;
    }
    chunk.copy(this.out, this.compressed);
    this.compressed += chunk.length;
  }

  /** Compressed bytes produced so far (the compressor may still hold up to a chunk). */
  get compressedBytes(): number {
    return this.compressed;
  }

  /** Adds one record's line (without newline) under its sort key. Await the result when it is a promise (a chunk went to the compressor). */
  add(line: string, key: string): Promise<void> | undefined {
    if (this.records === 0) this.firstKey = key;
    this.lastKey = key;
    this.records++;
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    return this.pendingChars >= CHUNK_CHARS ? this.drain() : undefined;
  }

  private drain(): Promise<void> {
    this.pending.push('');
    const chunk = Buffer.from(this.pending.join('\n'), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    this.rawBytes += chunk.length;
    return new Promise<void>((resolve, reject) => {
      this.gzip.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Ends the member and returns the part. The encoder cannot be used afterwards. */
  async finish(): Promise<EncodedPart> {
    if (this.pendingChars > 0) await this.drain();
    await new Promise<void>((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
      this.gzip.end();
      this.gzip.resume();
    });
    if (this.failure) throw this.failure;
    const buffer = this.out;
    const body = buffer.subarray(0, this.compressed);
    let released = false;
    return {
      body,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      crc32: crc32Base64(body),
      rawBytes: this.rawBytes,
      records: this.records,
      firstKey: this.firstKey,
      lastKey: this.lastKey,
      release: () => {
        if (released) return;
        released = true;
        this.buffers.release(buffer);
      },
    };
  }

  /** Drops the member (its records are not in any part). */
  discard(): void {
    this.gzip.destroy();
    this.pending = [];
    this.buffers.release(this.out);
  }
}

/** CRC-32 of `data` in S3's header encoding: base64 of the 4 big-endian bytes. */
export function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}
