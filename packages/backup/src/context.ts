/**
 * What a job needs from the invocation: the handler's `ctx` fits (`signal`, `remainingMs()`,
 * `requestId`, `log`); a script can pass `{}` or its own signal.
 */

/** A logger with the handler's shape (`ctx.log`). */
export interface LogLike {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The invocation a job runs in. Every field is optional. */
export interface RunContext {
  /** Aborted when the invocation must stop (the handler's deadline signal). */
  signal?: AbortSignal;
  /** Milliseconds left before the deadline (the handler's `ctx.remainingMs`). */
  remainingMs?: () => number;
  /**
   * The invocation's id, as the handler gives it. Not used as the lease owner: each run takes a
   * fresh owner token (UUIDv7), since a provider may deliver one event, with one request id, to
   * two runs at once (retries).
   */
  requestId?: string;
  log?: LogLike;
}

const silent: LogLike = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The context's logger, or one that drops everything. */
export function logOf(ctx: RunContext | undefined): LogLike {
  return ctx?.log ?? silent;
}

/**
 * The least `reserveMs` a job accepts (ms). A job stops starting work once `remainingMs()` falls
 * under its reserve and spends the reserve on its closing S3 writes (a checkpoint, a stream's
 * object, index and checkpoint, the lease's release): with less, those writes run past the
 * deadline, and with `0` a job whose `remainingMs()` stops at 0 (the handler's) never stops by
 * itself at all — a stream on a source that never goes quiet pulls forever. It is also more than
 * the handler's default `deadlineMarginMs` (500), so a job stops before the handler's signal does.
 */
export const MIN_RESERVE_MS = 1_000;

/** Milliseconds left (Infinity without a deadline). */
export function remaining(ctx: RunContext | undefined): number {
  return ctx?.remainingMs ? ctx.remainingMs() : Number.POSITIVE_INFINITY;
}

/**
 * Warns (on `ctx.log`) when a run starts with no more time than its reserve: it stops before its
 * first piece of work, and so does every run of a function whose timeout is not longer than
 * `reserveMs` (Lambda's default timeout, 3 s, is under every job's default reserve) — each one
 * "checkpointed" or "stopped by the deadline" having done nothing. The caller then returns at
 * once, before any S3 request or source query: a snapshot returns `checkpointed` without a
 * `backupId`, a stream `stoppedEarly` without a `timeline`, retention `stoppedBy: 'deadline'`
 * (each used to probe S3 and take its lease first — a snapshot also wrote its checkpoint and
 * opened the source's cursor, a stream pulled: seconds, past a 3 s function's deadline).
 * @param what - The job, as the log names it (e.g. `snapshot job "orders"`).
 * @returns `true` when the run has no time past its reserve (and must stop before any work)
 */
export function warnUnderReserve(ctx: RunContext | undefined, reserveMs: number, what: string): boolean {
  const left = remaining(ctx);
  if (left > reserveMs) return false;
  logOf(ctx).warn(`${what}: the invocation has no time past reserveMs: it stops before any work; give the function a timeout longer than reserveMs (or a smaller reserveMs)`, { remainingMs: Math.max(0, Math.floor(left)), reserveMs });
  return true;
}
