/**
 * The plugin's per-invocation state (`IdempotencyState`): made by the core for each invocation
 * and each message of a batch, and handed to every hook; never module state.
 */
import type { SteadyError } from '@steadyfn/handler';
import type { PendingCompletion } from './join.js';
import type { CompleteRequest, ReleaseRequest, StoredRecord } from './types.js';

/**
 * The plugin's state for one invocation (made fresh by the core for each invocation and each
 * message of a batch). Opaque to users.
 */
export interface IdempotencyState {
  /** The store key, once resolved. */
  key?: string;
  fingerprint?: string;
  /** The fingerprint an earlier version gave this request (before the query counted; for a reusable position, `delivery`), still matched (`fingerprintsOf`). */
  legacyFingerprint?: string;
  /** Set while this invocation holds the record. */
  owner?: string;
  /** When the lease this invocation claimed ends (epoch ms, this process's clock), with `owner`. */
  leaseUntil?: number;
  /** A batch message's claim failed on its own (see `claimEach` in batch.ts): its `before` throws this. */
  refused?: SteadyError;
  /** What a batch claim found instead of claiming. */
  existing?: StoredRecord;
  /** Completion waits for `afterBatch`. */
  batch: boolean;
  /** In a batch, the key needs the validated input, so `before` claims it. */
  keyInBefore: boolean;
  /**
   * The plugin's `before` ran for this invocation (past validation and every earlier plugin's
   * `before`). A batch's message claimed in `beforeBatch` whose `before` never ran did not run
   * its function: its failure is never stored (`cacheErrors`).
   */
  began: boolean;
  /** Completion or release queued for `afterBatch`. */
  pending?: CompleteRequest | ReleaseRequest;
  /**
   * In a batch, the keys its messages claimed (one set shared by the batch's states): a
   * record held under one of them completes only in `afterBatch`, after every message ran.
   */
  batchClaims?: Set<string>;
  settled: boolean;
  /** The invocation is an HTTP request (`ctx.trigger.kind`), set with the state's exposure in `before`: which results are responses (`responseStatus`). */
  http?: boolean;
  /**
   * An HTTP request run by `toMiddy()` (set with the key, `resolveInto`): its function's result is
   * a Lambda proxy result stored as a plain value, which a duplicate gets marked `Idempotency-Replayed: true` (proxy-replay.ts).
   */
  proxyReplay?: boolean;
  /**
   * `pendingCompletion` handed this record's completion to another write, and that write has not
   * said it committed without it (`PendingCompletion.notJoined`): a failure after the function
   * returned then releases the record (that write is taken not to have been made) rather than
   * completing it (`settleReturned`).
   */
  offered?: boolean;
  /** Another write carried the completion (`PendingCompletion.joined`). */
  joined?: boolean;
  /** The plugin's side of `pendingCompletion` (one per plugin, shared by its states). */
  readonly join: Joiner;
}

/** Builds `PendingCompletion`s for one plugin instance. */
export interface Joiner {
  completion(state: IdempotencyState, result: unknown): PendingCompletion | undefined;
}

/** Whether a record's fingerprint is this invocation's request (or its fingerprint as an earlier version wrote it). */
export function sameRequest(state: IdempotencyState, fingerprint: string): boolean {
  return fingerprint === state.fingerprint || (state.legacyFingerprint !== undefined && fingerprint === state.legacyFingerprint);
}
