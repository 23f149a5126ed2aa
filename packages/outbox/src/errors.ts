/**
 * The outbox's typed errors: each a `SteadyError` with a stable `code`, an HTTP status and
 * whether a retry could succeed. Messages never carry payloads, keys or driver messages.
 */
import type { SteadyErrorOptions } from '@steadyfn/handler';
import { SteadyError } from '@steadyfn/handler/internal';

export { ConfigurationError } from '@steadyfn/handler/internal';

/**
 * An event given to `ctx.outbox.add` does not fit its declaration: unknown `type`, a payload
 * its zod schema refuses, or an envelope field out of range. Terminal (HTTP 500: the
 * function's own bug, not the caller's); `issues` lists each bad field.
 */
export class EventInvalidError extends SteadyError {
  override readonly name = 'EventInvalidError';
  constructor(message: string, options: Omit<SteadyErrorOptions, 'status' | 'retryable'> = {}) {
    super('OUTBOX_EVENT_INVALID', message, { status: 500, retryable: false, expose: false, ...options });
  }
}

/**
 * An embedded outbox would pass its cap of pending events (by count or bytes) in one
 * document. Thrown before anything is written. Retryable (HTTP 503): the relay drains the
 * document and a later attempt fits — unless the relay is stuck, which the
 * `oldestPendingAgeMs` metric shows.
 */
export class OutboxFullError extends SteadyError {
  override readonly name = 'OutboxFullError';
  /** What was exceeded: `'count'` or `'bytes'`. */
  readonly limit: 'count' | 'bytes';
  constructor(limit: 'count' | 'bytes', message: string) {
    super('OUTBOX_DOCUMENT_FULL', message, { status: 503, retryable: true, expose: true });
    this.limit = limit;
  }
}

/**
 * A precondition the atomic write checks failed (a Redis `check`, the embedded update's
 * filter no longer matching): nothing was written. HTTP 409, terminal by default.
 */
export class PreconditionFailedError extends SteadyError {
  override readonly name = 'PreconditionFailedError';
  constructor(message: string, options: Omit<SteadyErrorOptions, 'status'> = {}) {
    super('OUTBOX_PRECONDITION_FAILED', message, { status: 409, retryable: false, expose: true, ...options });
  }
}

/**
 * The atomic write lost a race it can retry (another writer moved the document's version
 * or held its write lease past the wait): nothing was written. HTTP 503, retryable.
 */
export class WriteConflictError extends SteadyError {
  override readonly name = 'WriteConflictError';
  constructor(message: string, options: Omit<SteadyErrorOptions, 'status' | 'retryable'> = {}) {
    super('OUTBOX_WRITE_CONFLICT', message, { status: 503, retryable: true, expose: true, headers: { 'Retry-After': '1' }, ...options });
  }
}

/**
 * A Redis-mode write would record events of an aggregate (`<aggregateType>/<aggregateId>`)
 * under a second hash tag: the aggregate's *home* partition — where its `seq`, pending entries
 * and relay lease are kept — is recorded (by its first write, or claimed by a first write in
 * progress) as another partition. Numbering it again in this write's partition would restart
 * its `seq` at 1 and lose its order (the inbox refuses the second numbering). Nothing was
 * written. HTTP 409. Terminal when the home partition numbered the aggregate: the same write
 * fails again; write the aggregate's events under its home tag. Retryable (`claimOnly: true`)
 * on Redis Cluster when the home is only *claimed* by a first write that has not numbered the
 * aggregate yet — that write may still fail, and its claim is taken over after 60 s.
 * `aggregate`, `home`, `partition` and `claimOnly` are logged (no payload).
 */
export class AggregatePartitionError extends SteadyError {
  override readonly name = 'AggregatePartitionError';
  /** The aggregate key, `<aggregateType>/<aggregateId>`. */
  readonly aggregate: string;
  /** The hash tag recorded as the aggregate's home partition. */
  readonly home: string;
  /** The hash tag of the refused write (`default`: keys without a tag, standalone Redis). */
  readonly partition: string;
  /** Redis Cluster: the home is only claimed by a first write that has not numbered the aggregate yet (retryable). */
  readonly claimOnly: boolean;
  /**
   * Redis Cluster: the other aggregates of the write whose home claim it made (or kept) in its
   * partition before this refusal — all it wrote; empty when it wrote nothing.
   */
  readonly claims: ReadonlyArray<string>;
  /**
   * @param details.claimOnly - The home is a claim not confirmed yet (retryable). @default false
   * @param details.claims - Aggregates whose home claim the write made before the refusal. @default []
   */
  constructor(aggregate: string, home: string, partition: string, details: { claimOnly?: boolean; claims?: ReadonlyArray<string> } = {}) {
    const claimOnly = details.claimOnly === true;
    const claims = [...(details.claims ?? [])];
    const written = claimsWritten(claims);
    super(
      'OUTBOX_AGGREGATE_PARTITION',
      claimOnly
        ? `outbox: aggregate ${aggregate} is being claimed by a first write in partition {${home}}; this write is in partition {${partition}} — write an aggregate's events always under one hash tag; ${written} (retry: that claim may not hold)`
        : `outbox: aggregate ${aggregate} lives in partition {${home}}; this write is in partition {${partition}} — write an aggregate's events always under one hash tag; ${written}`,
      { status: 409, retryable: claimOnly, expose: true, logFields: { aggregate, home, partition, claimOnly, ...(claims.length > 0 ? { claims: claims.join(',') } : {}) } },
    );
    this.aggregate = aggregate;
    this.home = home;
    this.partition = partition;
    this.claimOnly = claimOnly;
    this.claims = claims;
  }
}

/**
 * What a Redis-mode write refused after its home claims wrote: `nothing was written`, or (Redis
 * Cluster) `nothing but the aggregate's home claim was written (order/o-1)`, naming each claim.
 */
export function claimsWritten(claims: ReadonlyArray<string>): string {
  if (claims.length === 0) return 'nothing was written';
  return claims.length === 1 ? `nothing but the aggregate's home claim was written (${claims[0]})` : `nothing but the aggregates' home claims were written (${claims.join(', ')})`;
}

/** The outbox store could not be reached or answered an error: nothing is known to be written. Retryable. */
export class OutboxUnavailableError extends SteadyError {
  override readonly name = 'OutboxUnavailableError';
  constructor(message: string, cause?: unknown) {
    super('OUTBOX_STORE_UNAVAILABLE', message, { status: 503, retryable: true, expose: true, cause });
  }
}

/**
 * A transition the declared table does not allow (`from` → `to`), or one that lost the race
 * (the aggregate is no longer in `from`). HTTP 409, terminal: the same request fails again.
 * `code` is `TRANSITION_ILLEGAL` or `TRANSITION_CONFLICT`.
 */
export class TransitionError extends SteadyError {
  override readonly name = 'TransitionError';
  readonly from: string;
  readonly to: string;
  /** The state found, when known (a lost race); undefined for an illegal transition or a missing aggregate. */
  readonly actual: string | undefined;
  constructor(code: 'TRANSITION_ILLEGAL' | 'TRANSITION_CONFLICT', message: string, details: { from: string; to: string; actual?: string | undefined }) {
    super(code, message, { status: 409, retryable: false, expose: true });
    this.from = details.from;
    this.to = details.to;
    this.actual = details.actual;
  }
}

/**
 * The inbox received event `seq` of an aggregate before event `seq - 1` was applied
 * (`onGap: 'retry'`): the message is reported failed so the queue redelivers it later.
 * Retryable (HTTP 503).
 */
export class SeqGapError extends SteadyError {
  override readonly name = 'SeqGapError';
  /**
   * @param message - What happened, in words (no payload).
   * @param gap - The aggregate key (`<aggregateType>/<aggregateId>`), the seq the inbox waits for and the seq that arrived; logged with the failure.
   */
  constructor(message: string, gap?: { aggregate: string; expectedSeq: number; gotSeq: number }) {
    // Logged at warn: a standard queue delivers out of order, and the redelivery is the plan.
    super('INBOX_SEQ_GAP', message, { status: 503, retryable: true, expose: true, logLevel: 'warn', ...(gap === undefined ? {} : { logFields: gap }) });
  }
}

/**
 * Two different events carry one (aggregate, seq): the inbox's marker for that seq is held or
 * completed by another event id, so applying this one would apply seq twice (and break the
 * order the marker stands for). The producer broke the seq invariant — e.g. two outboxes (two
 * stores, each with its own counter) writing one `aggregateType`/`aggregateId`. Terminal
 * (HTTP 409): the queue dead-letters the message; its effect is not applied. Logged with
 * `aggregate` and `seq` (no payload).
 */
export class SeqConflictError extends SteadyError {
  override readonly name = 'SeqConflictError';
  /**
   * @param message - What happened, in words (no payload).
   * @param conflict - The aggregate key (`<aggregateType>/<aggregateId>`) and the seq both events carry.
   */
  constructor(message: string, conflict: { aggregate: string; seq: number }) {
    super('INBOX_SEQ_CONFLICT', message, { status: 409, retryable: false, expose: true, logFields: conflict });
  }
}

/** Another delivery of the same event is being handled right now. HTTP 409, retryable: the queue delivers it again later and it is then a duplicate. */
export class EventInProgressError extends SteadyError {
  override readonly name = 'EventInProgressError';
  constructor(message: string) {
    super('INBOX_IN_PROGRESS', message, { status: 409, retryable: true, expose: true, headers: { 'Retry-After': '1' } });
  }
}

/** A message the inbox cannot read as an outbox event (not an envelope, or a claim check whose object does not match). Terminal. */
export class MessageInvalidError extends SteadyError {
  override readonly name = 'MessageInvalidError';
  constructor(message: string, options: Omit<SteadyErrorOptions, 'status' | 'retryable'> = {}) {
    super('INBOX_MESSAGE_INVALID', message, { status: 400, retryable: false, expose: true, ...options });
  }
}

/**
 * A `redrive(ctx, ref)` reference that cannot name a quarantine of this outbox: not an object
 * `{ where, aggregate, fromSeq, quarantinedAt }`, a field missing or of the wrong type (the
 * quarantine's identity `fromSeq` and `quarantinedAt` included: without it a stale reference could release a newer
 * quarantine), an unknown key, a
 * `where` of another outbox (a partition tag with braces, another collection), an aggregate
 * type this outbox does not declare, or an aggregate that was never at that `where`. Nothing
 * was released or sent. HTTP 400, terminal; `field` names the field at fault (`ref` for the
 * whole value). A reference that is only stale (the aggregate is not quarantined any more, or
 * was quarantined again since) is not an error: the redrive answers `redriven: false`.
 */
export class RedriveRefInvalidError extends SteadyError {
  override readonly name = 'RedriveRefInvalidError';
  /** The field at fault: `ref`, `where`, `aggregate`, `fromSeq`, `quarantinedAt`, or an unknown key. */
  readonly field: string;
  constructor(field: string, message: string, expected: string) {
    super('OUTBOX_REDRIVE_REF_INVALID', `redrive(): ${message}`, { status: 400, retryable: false, expose: true, issues: [{ field, message, expected }] });
    this.field = field;
  }
}

/**
 * A `redrive(ctx, ref)` met a stored quarantine it cannot read: the aggregate is quarantined,
 * but its entry is not the relay's record `{ fromSeq, reason, at }` (Redis: the quarantine
 * hash field is not that JSON; MongoDB: the state document's `q` is not that sub-document) —
 * written by something else than the relay. Nothing was released, reset or sent. HTTP 409,
 * terminal: the entry must be repaired or removed by hand (removing it releases the aggregate).
 * The message names the aggregate and where the entry is kept, never what it holds; the same
 * entry is left out of `listQuarantined` and told to its `onUnreadable`.
 */
export class QuarantineUnreadableError extends SteadyError {
  override readonly name = 'QuarantineUnreadableError';
  /** The partition (Redis hash tag) or collection of the aggregate. */
  readonly where: string;
  /** The aggregate whose quarantine entry is unreadable. */
  readonly aggregate: string;
  constructor(where: string, aggregate: string, message: string) {
    super('OUTBOX_QUARANTINE_UNREADABLE', `redrive(): ${message}`, {
      status: 409,
      retryable: false,
      expose: true,
      issues: [{ field: 'aggregate', message, expected: "a quarantine entry as the relay writes it: { fromSeq, reason, at }" }],
    });
    this.where = where;
    this.aggregate = aggregate;
  }
}

/**
 * What `relayWatchdog(ctx, message)` or `flushTargets(ctx, refs)` was handed cannot name
 * aggregates of this outbox: a watchdog message of this outbox whose `keys` is not an array of
 * at most 100 `JSON.stringify([where, aggregate])` texts (what the watchdog writes), or a
 * `flushTargets` ref that is not `{ where, aggregate, since? }`; a `where` of another outbox (a
 * partition tag with braces, another collection) or an aggregate type this outbox does not
 * declare. Checked before anything is read: nothing was relayed. HTTP 400, terminal; `field`
 * names the value at fault (`keys`, `keys[2]`, `keys[2].aggregate`, `refs[0].where`, …).
 */
export class RelayTargetInvalidError extends SteadyError {
  override readonly name = 'RelayTargetInvalidError';
  /** The value at fault: `message`, `keys`, `keys[i]`, `keys[i].where`, `keys[i].aggregate`, `refs`, `refs[i]`, `refs[i].<field>`. */
  readonly field: string;
  constructor(entry: 'relayWatchdog' | 'flushTargets', field: string, message: string, expected: string) {
    super('OUTBOX_RELAY_TARGET_INVALID', `${entry}(): ${message}`, { status: 400, retryable: false, expose: true, issues: [{ field, message, expected }] });
    this.field = field;
  }
}

/**
 * `relayWatchdog()` could not relay every aggregate its watchdog message names: another relay
 * still holds an aggregate's lease (a relay killed mid-flush keeps it for `relay.leaseMs`), SQS
 * did not take its events (an outage, throttling, a retryable refusal) or the run stopped early
 * (deadline, store outage). HTTP 503, retryable: the consumer must fail so that the relay
 * queue delivers the message again after its visibility timeout — returning would let SQS
 * delete it and leave the events to the sweeper. Aggregates quarantined or held for a redrive
 * count as done. `left` and `named` are counts; no key, payload or driver message.
 */
export class RelayIncompleteError extends SteadyError {
  override readonly name = 'RelayIncompleteError';
  /** Aggregates the message names that still have events pending after this run. */
  readonly left: number;
  /** Distinct aggregates the message names. */
  readonly named: number;
  constructor(left: number, named: number) {
    super('OUTBOX_RELAY_INCOMPLETE', `relayWatchdog(): ${left} of the ${named} aggregates the watchdog message names still have events pending (held by another relay's lease, not taken by SQS, or the run stopped early); fail the message so the relay queue delivers it again`, { status: 503, retryable: true, expose: true, logFields: { left, named } });
    this.left = left;
    this.named = named;
  }
}

/**
 * The server cannot give a guarantee this mode needs, found at run time (a MongoDB
 * deployment without transactions in transaction mode). Terminal.
 */
export class UnsupportedServerError extends SteadyError {
  override readonly name = 'UnsupportedServerError';
  constructor(message: string, cause?: unknown) {
    super('OUTBOX_SERVER_UNSUPPORTED', message, { status: 500, retryable: false, expose: false, cause });
  }
}

/**
 * Class name and driver code of a thrown value, for logs: never its message (drivers put values
 * in messages). The SQS layer's errors add SQS's own code (`sqsCode`: `NonExistentQueue`,
 * `AccessDenied`, …), which tells a missing queue from a permission problem.
 */
export function describeCause(error: unknown): { cause: string; causeCode?: string | number; sqsCode?: string } {
  const cause = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  const sqsCode = (error as { sqsCode?: unknown } | null)?.sqsCode;
  return {
    cause,
    ...(typeof code === 'string' || typeof code === 'number' ? { causeCode: code } : {}),
    ...(typeof sqsCode === 'string' ? { sqsCode } : {}),
  };
}
