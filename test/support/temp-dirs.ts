/**
 * The temp folders of a test process's own servers (servers.ts: redis-server, FerretDB, Redis
 * Cluster; examples/openwhisk.ts: action containers). A folder is removed when its server stops
 * for good (`releaseTempDir`: dispose, a cluster's stop, a start that failed), and any still held
 * when the process ends — a failed test, or one that stopped a server and never disposed it — on
 * `exit` or on the SIGTERM Vitest ends its workers with. Its processes are killed first and
 * waited for, so a folder is never removed under a server still running in it.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Each held folder, with what kills its processes now (synchronously): whether they all ended. */
const held = new Map<string, () => boolean>();
let hooked = false;

/**
 * A new folder `<tmpdir>/<prefix><random>`, held until `releaseTempDir` or the process's end.
 *
 * @param killUsers - Kills the processes using the folder (e.g. `() => killNow(child)`) and
 *   says whether they all ended; run at the process's end, which removes the folder only then.
 */
export function ownTempDir(prefix: string, killUsers: () => boolean): string {
  hookProcessEnd();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  held.set(dir, killUsers);
  return dir;
}

/** Removes a folder whose processes have ended. */
export function releaseTempDir(dir: string): void {
  held.delete(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Whether process `pid` has ended (gone, or a zombie not reaped yet: it runs nothing). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** SIGKILLs `child` if it still runs and waits (at most 2 s, spinning; /proc only): whether it has ended. */
export function killNow(child: ChildProcess | undefined): boolean {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return true;
  child.kill('SIGKILL');
  const until = Date.now() + 2_000;
  while (!ended(child.pid)) {
    if (Date.now() > until) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
  return true;
}

/** At the process's end: every held folder whose processes ended is removed; one still in use is left. */
function releaseAll(): void {
  for (const [dir, killUsers] of held) {
    try {
      if (killUsers()) releaseTempDir(dir);
    } catch {
      // The process is ending: a folder that cannot be removed is left, as before.
    }
  }
}

function hookProcessEnd(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', releaseAll);
  // A listener replaces Node's default for SIGTERM (exit): when no other listener remains, the
  // signal is raised again so the process ends as it would have.
  process.once('SIGTERM', () => {
    releaseAll();
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  });
}
