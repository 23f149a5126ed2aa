/**
 * The Redis server's clock as this process sees it, learnt from the `TIME` the claim script
 * returns. Only one answer needs it: a done record returned by `SET … NX GET` carries its end in
 * the server's epoch ms, and this process's clock may be minutes off (a thawed instance, a host
 * without NTP). Everything else is judged by the key's TTL, which needs no clock.
 */

import { wallClockStepped } from './mongodb-clock.js';

/** An offset older than this is not trusted: the claim script decides (and refreshes it). */
const FRESH_MS = 30_000;
/** Nor one whose round trip took longer: its error (half of it) must stay well inside the store's 1 s guard. */
const MAX_RTT_MS = 500;

export interface RedisServerClock {
  /** Records a `TIME` reply (`[seconds, microseconds]`) of a call sent at `sentAt` and answered at `receivedAt` (`Date.now()`). */
  note(time: unknown, sentAt: number, receivedAt: number): void;
  /**
   * Server epoch ms → this process's epoch ms, when a recent sample says how (error: half
   * that sample's round trip); `undefined` otherwise.
   */
  toLocal(serverMs: number): number | undefined;
}

export function redisServerClock(): RedisServerClock {
  let offset = 0;
  let sampledAt = -Infinity;
  let sampledWall = 0;
  /** Round trip of the sample in use: its error is half of it. */
  let sampledRtt = Infinity;
  /** The sample in use is recent, and the wall clock was not stepped since. */
  const trusted = (): boolean => {
    const elapsed = performance.now() - sampledAt;
    // Nor one taken before this process's wall clock was stepped (NTP, an operator).
    return elapsed < FRESH_MS && sampledRtt <= MAX_RTT_MS && !wallClockStepped(sampledWall, sampledAt);
  };
  return {
    note(time, sentAt, receivedAt) {
      if (!Array.isArray(time) || time.length !== 2) return;
      const serverMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      if (!Number.isFinite(serverMs)) return;
      const rtt = receivedAt - sentAt;
      // A sample from a slow round trip (a loaded machine) replaces a better one only once that one is half-way to stale.
      if (rtt > sampledRtt && performance.now() - sampledAt < FRESH_MS / 2 && trusted()) return;
      offset = serverMs - (sentAt + receivedAt) / 2;
      sampledRtt = rtt;
      sampledAt = performance.now();
      sampledWall = Date.now();
    },
    toLocal(serverMs) {
      return trusted() ? serverMs - offset : undefined;
    },
  };
}
