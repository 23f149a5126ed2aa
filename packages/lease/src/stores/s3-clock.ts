/**
 * S3's clock, as the S3 store reads it: every answer carries a `Date` header with 1-second
 * resolution. Leases are judged by it (never by this process's clock), erring towards a longer
 * lease:
 *
 *   - "now" on the server is taken as the header's value, which is at most 1 s behind, so a
 *     record looks live a little longer, never shorter;
 *   - a lease written after a read ends `1 s + leaseMs` after the header's value, so it ends no
 *     sooner than `leaseMs` after the request left this process.
 *
 * For showing a server time on this process's clock (`expiresAt` of a record), the offset
 * between the two clocks is kept as an interval that every reading narrows: a header value
 * `D` received between local times `S` and `R` says the offset is in `[D − R, D + 1000 − S]`.
 */

/** The error of a `Date` header: it drops the milliseconds. */
export const DATE_RESOLUTION_MS = 1000;

/** One reading: the header (epoch ms) and the local send and receive times. */
export interface Reading {
  date: number | undefined;
  sentAt: number;
  receivedAt: number;
}

/** The server clock as far as the readings tell. */
export interface ServerClock {
  /** Server "now" from a reading, at most `DATE_RESOLUTION_MS` behind (the local clock when the answer had no `Date`). */
  nowOf(reading: Reading): number;
  /** A server time on this process's clock (the middle of the offset interval). */
  toLocal(serverMs: number): number;
  /** Whether any answer carried a `Date` header. */
  fromServer(): boolean;
}

export function serverClock(): ServerClock {
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  let seen = false;
  const note = (r: Reading): void => {
    if (r.date === undefined) return;
    seen = true;
    const a = r.date - r.receivedAt;
    const b = r.date + DATE_RESOLUTION_MS - r.sentAt;
    // Disjoint from what was known: a clock was stepped. Start again from this reading.
    if (a > hi || b < lo) [lo, hi] = [a, b];
    else [lo, hi] = [Math.max(lo, a), Math.min(hi, b)];
  };
  return {
    nowOf(reading) {
      note(reading);
      return reading.date ?? reading.receivedAt;
    },
    toLocal(serverMs) {
      return seen ? Math.round(serverMs - (lo + hi) / 2) : serverMs;
    },
    fromServer: () => seen,
  };
}
