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

/** Milliseconds left (Infinity without a deadline). */
export function remaining(ctx: RunContext | undefined): number {
  return ctx?.remainingMs ? ctx.remainingMs() : Number.POSITIVE_INFINITY;
}
