/**
 * A restore's spool: the compressed parts read (and checked) once from S3, kept in a temporary
 * file so that the writes come from the very bytes that were verified, without a second
 * download. Bounded by the backup's compressed size (the restore decides whether it fits) and
 * removed when the restore ends, whatever happens.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Parts by (segment key, part number), appended to one temporary file. */
export class PartSpool {
  private readonly where = new Map<string, { offset: number; bytes: number }>();
  private end = 0;
  /** A write failed (a full or read-only disk): the spool holds nothing usable. */
  failed = false;

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
  ) {}

  /** Creates the spool file in a new directory under `dir` (the OS temporary directory by default); `undefined` when it cannot (the restore then reads twice). */
  static async open(dir: string = tmpdir()): Promise<PartSpool | undefined> {
    const made = await mkdtemp(join(dir, 'steadyfn-restore-')).catch(() => undefined);
    if (made === undefined) return undefined;
    try {
      return new PartSpool(made, await open(join(made, 'parts'), 'w+', 0o600));
    } catch {
      await rm(made, { recursive: true, force: true });
      return undefined;
    }
  }

  /** Bytes held. */
  get bytes(): number {
    return this.end;
  }

  /** Keeps a part's bytes. A failed write marks the spool `failed` (the restore then reads again) rather than failing the check. */
  async put(segmentKey: string, part: number, body: Buffer): Promise<void> {
    if (this.failed) return;
    const offset = this.end;
    this.end += body.length;
    try {
      await this.file.write(body, 0, body.length, offset);
    } catch {
      this.failed = true;
      return;
    }
    this.where.set(`${segmentKey}\u0000${part}`, { offset, bytes: body.length });
  }

  /** A part's bytes as kept; `undefined` when this part was not spooled. */
  async get(segmentKey: string, part: number): Promise<Buffer | undefined> {
    const at = this.where.get(`${segmentKey}\u0000${part}`);
    if (!at) return undefined;
    const body = Buffer.allocUnsafe(at.bytes);
    const { bytesRead } = await this.file.read(body, 0, at.bytes, at.offset);
    return bytesRead === at.bytes ? body : body.subarray(0, bytesRead);
  }

  /** Closes and deletes the spool. */
  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
