/**
 * The MongoDB-wire server's clock, as seen from this process. Leases are judged by it, so
 * clients with skewed clocks agree. FerretDB 1.24 evaluates neither `$$NOW` nor `$expr`
 * comparisons and has no pipeline updates, so the server cannot compare times itself in a
 * query or a write; instead the store reads the server's time from `hello` (`localTime`,
 * answered by MongoDB and FerretDB alike), keeps the offset to the local clock, and writes
 * and compares server times. Without `hello` (a collection object without `db`), the local
 * clock is used.
 */

/** What the clock needs: `collection.db` of the driver. */
export interface CommandRunner {
  command(command: Record<string, unknown>, options?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Re-read the offset this often. */
const RESAMPLE_MS = 30_000;

export interface ServerClock {
  /** The server's time now, estimated, in epoch ms. */
  now(): number;
  /** Server epoch ms → this process's epoch ms. */
  toLocal(serverMs: number): number;
  /** How far `now()` may be from the server's true time (half the sampling round trip, at least 1 ms). */
  uncertaintyMs(): number;
  /** Samples the offset when it is missing or old; cheap otherwise. */
  refresh(): Promise<void>;
  /** Whether the offset comes from the server (false: the local clock is used). */
  fromServer(): boolean;
}

export function serverClock(dbOf: () => CommandRunner | undefined): ServerClock {
  let offset = 0;
  let uncertainty = 1;
  let sampledAt = -Infinity;
  let sampling: Promise<void> | undefined;
  let fromServer = false;

  const sample = async (): Promise<void> => {
    const db = dbOf();
    if (!db) {
      sampledAt = Infinity;
      return;
    }
    const sentAt = Date.now();
    const started = performance.now();
    const hello = await db.command({ hello: 1 });
    const rtt = performance.now() - started;
    const localTime = hello.localTime;
    if (localTime instanceof Date && Number.isFinite(localTime.getTime())) {
      offset = localTime.getTime() - (sentAt + rtt / 2);
      uncertainty = Math.max(1, Math.ceil(rtt / 2) + 1);
      fromServer = true;
    }
    sampledAt = performance.now();
  };

  return {
    now: () => Date.now() + offset,
    toLocal: (serverMs) => serverMs - offset,
    uncertaintyMs: () => uncertainty,
    fromServer: () => fromServer,
    refresh() {
      if (performance.now() - sampledAt < RESAMPLE_MS) return Promise.resolve();
      sampling ??= sample().finally(() => {
        sampling = undefined;
      });
      return sampling;
    },
  };
}
