/**
 * The Redis server's clock as this process sees it, learnt from the `TIME` the claim script
 * returns. Only one answer needs it: a done record returned by `SET … NX GET` carries its end in
 * the server's epoch ms, and this process's clock may be minutes off (a thawed instance, a host
 * without NTP). Everything else is judged by the key's TTL, which needs no clock.
 */

/** An offset older than this is not trusted: the claim script decides (and refreshes it). */
const FRESH_MS = 30_000;
/** Nor one taken before this process's wall clock was stepped by more than this (NTP, an operator). */
const STEP_MS = 50;

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
  return {
    note(time, sentAt, receivedAt) {
      if (!Array.isArray(time) || time.length !== 2) return;
      const serverMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      if (!Number.isFinite(serverMs)) return;
      offset = serverMs - (sentAt + receivedAt) / 2;
      sampledAt = performance.now();
      sampledWall = Date.now();
    },
    toLocal(serverMs) {
      const elapsed = performance.now() - sampledAt;
      return elapsed < FRESH_MS && Math.abs(Date.now() - sampledWall - elapsed) <= STEP_MS ? serverMs - offset : undefined;
    },
  };
}
