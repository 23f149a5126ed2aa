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
/** How fast two clocks may drift apart: 200 ppm, well above what NTP-disciplined clocks do. */
const DRIFT = 200e-6;
/**
 * This process's wall clock moved this much more (or less) than its monotonic clock since the
 * sample: it was stepped (NTP correcting it, an operator), so the offset is stale — sample again
 * before judging anything. NTP slewing (≤ 500 ppm) moves it ~15 ms in a 30 s window.
 */
const STEP_MS = 50;

/** Whether the wall clock was stepped since a sample taken at `sampledWall` (Date.now) / `sampledAt` (performance.now). */
export function wallClockStepped(sampledWall: number, sampledAt: number): boolean {
  return Math.abs(Date.now() - sampledWall - (performance.now() - sampledAt)) > STEP_MS;
}

export interface ServerClock {
  /** The server's time now, estimated, in epoch ms. */
  now(): number;
  /** Server epoch ms → this process's epoch ms. */
  toLocal(serverMs: number): number;
  /** How far `now()` may be from the server's true time (half the sampling round trip, at least 1 ms). */
  uncertaintyMs(): number;
  /** Samples the offset when it is missing or old, or this process's wall clock was stepped since; cheap otherwise. */
  refresh(): Promise<void>;
  /** Whether the offset comes from the server (false: the local clock is used). */
  fromServer(): boolean;
}

export function serverClock(dbOf: () => CommandRunner | undefined): ServerClock {
  let offset = 0;
  /** Half the round trip of the sample in use, at the time it was taken. */
  let sampleUncertainty = 1;
  let sampledAt = -Infinity;
  /** `Date.now()` when the sample in use was taken (at `sampledAt` on the monotonic clock). */
  let sampledWall = 0;
  let sampling: Promise<void> | undefined;
  let lastTry = -Infinity;
  let fromServer = false;

  /** The wall clock was stepped since the sample in use (see STEP_MS). */
  const stepped = (): boolean => fromServer && wallClockStepped(sampledWall, sampledAt);

  const sample = async (force: boolean): Promise<void> => {
    const db = dbOf();
    if (!db) {
      lastTry = Infinity;
      return;
    }
    const sentAt = Date.now();
    const started = performance.now();
    const hello = await db.command({ hello: 1 });
    const rtt = performance.now() - started;
    const localTime = hello.localTime;
    if (localTime instanceof Date && Number.isFinite(localTime.getTime())) {
      const candidate = Math.max(1, Math.ceil(rtt / 2) + 1);
      // A sample taken under load (a long round trip) replaces a better one only once that one has aged.
      // A sample taken before the wall clock was stepped is wrong, however good its round trip was.
      if (force || !fromServer || candidate <= uncertainty()) {
        offset = Math.round(localTime.getTime() - (sentAt + rtt / 2));
        sampleUncertainty = candidate;
        sampledAt = performance.now();
        sampledWall = Date.now();
      }
      fromServer = true;
    }
    lastTry = performance.now();
  };

  /** The sample's error, grown by how far two clocks may drift apart since it was taken. */
  const uncertainty = (): number => (fromServer ? sampleUncertainty + Math.ceil((performance.now() - sampledAt) * DRIFT) : 1);

  return {
    now: () => Date.now() + offset,
    toLocal: (serverMs) => serverMs - offset,
    uncertaintyMs: uncertainty,
    fromServer: () => fromServer,
    refresh() {
      const step = stepped();
      if (!step && performance.now() - lastTry < RESAMPLE_MS) return Promise.resolve();
      sampling ??= sample(step).finally(() => {
        sampling = undefined;
      });
      return sampling;
    },
  };
}
