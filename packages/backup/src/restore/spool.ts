/**
 * A restore's spool: the compressed parts read (and checked) once from S3, kept in a temporary
 * file so that the writes come from the very bytes that were verified, without a second
 * download. Bounded by the backup's compressed size (the restore decides whether it fits) and
 * removed when the restore ends, whatever happens — but a process killed outright (SIGKILL, out
 * of memory, a function's sandbox stopped) cannot. So a spool directory is named for its owner,
 * `steadyfn-restore-<host>.<pid>.<run>-XXXXXX` (`host`: a hash of the host name, `run`: a token
 * drawn once per process), and each new spool first removes the directories of this host whose
 * process is gone: a pid that no longer runs, or this very pid with another run token (a
 * previous process that had it, as in a restarted container). A directory of a live process,
 * of another host (a shared temporary directory), or of another naming is never touched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
/** Drawn once per process: tells this process's spools from those of an earlier one with the same pid. */
const RUN = randomBytes(4).toString('hex');
const OWNED = /^steadyfn-restore-([0-9a-f]{8})\.(\d+)\.([0-9a-f]{8})-/;

/** Whether process `pid` runs (a process of another user counts as running). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the spool directories under `dir` left by dead processes of this host (see the module comment); failures are ignored. */
export async function removeStaleSpools(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m || m[1] !== HOST) continue;
    const pid = Number(m[2]);
    const dead = pid === process.pid ? m[3] !== RUN : !running(pid);
    if (dead) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

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

  /**
   * Creates the spool file in a new directory under `dir` (the OS temporary directory by
   * default), after removing the spools dead processes left there; `undefined` when it cannot
   * (the restore then reads twice).
   */
  static async open(dir: string = tmpdir()): Promise<PartSpool | undefined> {
    await removeStaleSpools(dir);
    const made = await mkdtemp(join(dir, `steadyfn-restore-${HOST}.${process.pid}.${RUN}-`)).catch(() => undefined);
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
