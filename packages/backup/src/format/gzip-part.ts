/**
 * One multipart part = one complete gzip member (RFC 1952) holding whole NDJSON lines. A part
 * can then be checked or decoded alone (a ranged GET of its byte range), and a resume needs no
 * compressor state: a segment is the concatenation of its members, which Node's zlib,
 * `gzip -d`/`gzip -t` and Python's `gzip` module read as one stream (multi-member gzip).
 *
 * Memory: the compressed bytes of the member being built, plus one raw chunk.
 */
import { createHash } from 'node:crypto';
import { constants, createGzip, crc32, type Gzip } from 'node:zlib';

/** A finished part: its compressed bytes and what the manifest records about it. */
export interface EncodedPart {
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
}

/** Raw bytes handed to the compressor at once. */
const CHUNK_BYTES = 256 * 1024;

/** Builds one gzip member from whole lines. */
export class GzipPartEncoder {
  private readonly gzip: Gzip;
  private readonly out: Buffer[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private compressed = 0;
  private failure: Error | undefined;
  /** Uncompressed bytes added so far. */
  rawBytes = 0;
  /** Lines added so far. */
  records = 0;
  firstKey = '';
  lastKey = '';

  constructor(level: number = constants.Z_DEFAULT_COMPRESSION) {
    this.gzip = createGzip({ level });
    this.gzip.on('data', (chunk: Buffer) => {
      this.out.push(chunk);
      this.compressed += chunk.length;
    });
    this.gzip.on('error', (error) => (this.failure = error));
  }

  /** Compressed bytes produced so far (the compressor may still hold up to a chunk). */
  get compressedBytes(): number {
    return this.compressed;
  }

  /** Adds one record's line (without newline) under its sort key. Await the result when it is a promise (a chunk went to the compressor). */
  add(line: string, key: string): Promise<void> | undefined {
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    if (this.records === 0) this.firstKey = key;
    this.lastKey = key;
    this.records++;
    this.rawBytes += bytes.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    return this.pendingBytes >= CHUNK_BYTES ? this.drain() : undefined;
  }

  private drain(): Promise<void> {
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return new Promise<void>((resolve, reject) => {
      this.gzip.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Ends the member and returns the part. The encoder cannot be used afterwards. */
  async finish(): Promise<EncodedPart> {
    if (this.pendingBytes > 0) await this.drain();
    await new Promise<void>((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
      this.gzip.end();
      this.gzip.resume();
    });
    if (this.failure) throw this.failure;
    const body = Buffer.concat(this.out, this.compressed);
    return {
      body,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      crc32: crc32Base64(body),
      rawBytes: this.rawBytes,
      records: this.records,
      firstKey: this.firstKey,
      lastKey: this.lastKey,
    };
  }

  /** Drops the member (its records are not in any part). */
  discard(): void {
    this.gzip.destroy();
    this.out.length = 0;
    this.pending = [];
  }
}

/** CRC-32 of `data` in S3's header encoding: base64 of the 4 big-endian bytes. */
export function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}
