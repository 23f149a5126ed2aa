/**
 * Joining the idempotency record's completion to another package's atomic write — the outbox's
 * Redis script, its MongoDB transaction, its embedded document update — so that "the effects are
 * written" and "the request is done" commit together: a crash between the two can no longer
 * leave the effects written and the record held (a retry would then run the function again
 * once the lease ran out).
 *
 *   pendingCompletion(ctx, result)   the record's completion for the running invocation: its
 *                                    key, the encoded answer, and the lease settle that
 *                                    completes it (to include in the write)
 *   completion.joined()              the write committed: the plugin skips its own completion
 *   completion.notJoined()           the write committed without it: the plugin completes
 *   RequestAlreadyAppliedError       thrown by a write that finds the request already applied,
 *                                    with the answer it recorded: the plugin completes the
 *                                    record with that answer and replays it
 */
import type { Context } from '@steadyfn/handler';
import { functionReturned, ownItemFailed, recoveredFrom, SteadyError } from '@steadyfn/handler/internal';
import type { LeaseStore, SettleRequest } from '@steadyfn/lease';

/** The completion of the running invocation's idempotency record, ready to join a write. */
export interface PendingCompletion {
  /**
   * The record's key in its store (the function's scope and the hashed idempotency key): one
   * per request. A joined write records it as applied (its request key).
   */
  readonly key: string;
  /** The answer a duplicate replays, encoded as the record keeps it. Record it with the write where the write can keep it. */
  readonly answer: string;
  /**
   * The completion as a `@steadyfn/lease` settle and the lease store to settle it on: include
   * it in the write — on Redis `store.settleFragment` with `store.settleCall(settle)` in the
   * same script, on MongoDB `store.settle(settle, { session })` inside the transaction.
   * Undefined when the idempotency store cannot join (not lease-backed, or this process does
   * not hold the claim's fence): then the plugin completes the record after the write as usual.
   */
  readonly lease: { store: LeaseStore; settle: SettleRequest } | undefined;
  /**
   * Call once the write that carried `lease.settle` committed (and only then): the plugin skips
   * its own completion; a duplicate is answered `answer` from the record.
   */
  joined(): void;
  /**
   * Call instead of `joined()` once the write committed without completing the record — it
   * could not carry `lease.settle` (`lease` undefined, a lease store the write cannot settle, a
   * record on another server or slot), or the settle found the record no longer this
   * invocation's. The plugin then completes the record itself after the write, and completes it
   * too when a plugin fails after the write (the effects are written). Until one of the two is
   * called the completion counts as offered to a write that may not have been made: a failure
   * after the function returned then releases the record (the retry writes once).
   */
  notJoined(): void;
}

/** What the plugin keeps on `ctx` for `pendingCompletion` (under a registry symbol, so duplicate package copies agree). */
export const JOIN = Symbol.for('steadyfn.idempotency.join');

/** The plugin's state as `ctx` exposes it: it knows how to build its own completion. */
export interface Joinable {
  readonly join: { completion(state: never, result: unknown): PendingCompletion | undefined };
}

/**
 * The running invocation's pending completion, when an `idempotency()` plugin holds its record
 * and has not completed it; `result` is what the function returned (on HTTP, the rendered
 * response the plugins receive). Undefined otherwise (no idempotency plugin, a duplicate being
 * replayed, a result that cannot be stored as JSON, or one larger than the store keeps —
 * `IdempotencyStore.maxResultBytes`, 16 MiB less 64 KiB on `mongoStore`): then write without
 * it, and the plugin releases the record after the write (warning `IDEMPOTENCY_RESULT_NOT_STORABLE`).
 * Ask only once there is something to write: an offered completion the write never carries
 * must be settled with `notJoined()`, or a later failure releases the record.
 *
 * After an inner plugin's `onError` recovered (`recoveredFrom(ctx)`), `result` is its answer,
 * not the function's: the completion carries what the function returned
 * (`functionReturned(ctx)`), and there is none when the function failed (its run's staged
 * effects are not to be written: the plugin releases the record). Nor is there one under middy
 * when `result` reports the invocation's own message failed (`{ batchItemFailures: [...] }` for
 * its one SQS message or stream record): the plugin releases the record for the redelivery.
 *
 * @throws ResponseTooLargeError (`RESPONSE_TOO_LARGE`) when `result` is an HTTP response its
 *   replay could not send: within the provider's limit, but over it with the
 *   `Idempotency-Replayed` header added. Let it propagate (write nothing): the invocation then
 *   answers `RESPONSE_TOO_LARGE` and the plugin releases the record.
 *
 * @example
 * const completion = pendingCompletion(ctx, result);
 * // include completion.lease.settle in the write, then:
 * completion?.joined();
 */
export function pendingCompletion(ctx: Context, result: unknown): PendingCompletion | undefined {
  const state = (ctx as unknown as Record<symbol, Joinable | undefined>)[JOIN];
  if (state === undefined || ownItemFailed(ctx, result)) return undefined;
  if (recoveredFrom(ctx) !== undefined) {
    const returned = functionReturned(ctx);
    if (returned === undefined) return undefined;
    return state.join.completion(state as never, returned.value);
  }
  return state.join.completion(state as never, result);
}

/**
 * The record key of the idempotency plugin holding the running invocation's request (the
 * function's scope and the hashed idempotency key), or undefined when none holds it. A write
 * that records "this request was applied" uses it as its request key.
 */
export function heldIdempotencyKey(ctx: Context): string | undefined {
  const state = (ctx as unknown as Record<symbol, (Joinable & { owner?: string; key?: string; settled?: boolean }) | undefined>)[JOIN];
  return state?.owner && !state.settled ? state.key : undefined;
}

/**
 * `IDEMPOTENCY_REQUEST_APPLIED`: a joined write found that an earlier attempt of this request
 * already applied it, and recorded `answer`. Thrown by that write; the `idempotency()` plugin's
 * `onError` (or its `after`, when a later plugin's `onError` recovered from this error) completes
 * the record with `answer` and replays it, so the retry answers what the first attempt answered — a caller never sees this error. Should it escape (no idempotency
 * plugin in `use`), it is a terminal 409.
 */
export class RequestAlreadyAppliedError extends SteadyError {
  override readonly name = 'RequestAlreadyAppliedError';
  /** The encoded answer the first attempt recorded (`PendingCompletion.answer`). */
  readonly answer: string;
  constructor(answer: string) {
    super('IDEMPOTENCY_REQUEST_APPLIED', 'This request was already applied by an earlier attempt', { status: 409, retryable: false, expose: true });
    this.answer = answer;
  }
}

/** Whether `error` is a `RequestAlreadyAppliedError` (by its code, so duplicate package copies agree). */
export function isRequestAlreadyApplied(error: unknown): error is RequestAlreadyAppliedError {
  return error instanceof SteadyError && error.code === 'IDEMPOTENCY_REQUEST_APPLIED' && typeof (error as { answer?: unknown }).answer === 'string';
}
