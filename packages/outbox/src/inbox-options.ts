/**
 * The shapes of `inbox()`: its options, what it adds to `ctx`, and its per-invocation state.
 */
import type { Context } from '@steadyfn/handler';
import type { IdempotencyStore } from '@steadyfn/idempotency';
import type { EventEnvelope } from './envelope.js';
import type { ClaimCheckReader } from './sqs/claim-check.js';
import type { InboxQueue } from './inbox-redrive.js';

/** Options of `inbox()`. */
export interface InboxOptions {
  /** An idempotency store (`redisStore`, `mongoStore`): where (consumer, event id) records live. */
  store: IdempotencyStore;
  /** This consumer's name: part of every key, so consumers sharing a store never collide. */
  consumer: string;
  /**
   * How long a handled event is remembered, counted from its completion: at least the queue's
   * retention plus its DLQ's. `leaseMs` bounds the handling before the completion, so the two
   * cover different times and either may be the longer. A FIFO DLQ redrive restarts a message's
   * enqueue time, so a redriven copy can arrive up to about twice the retention after the first
   * delivery: raise it when you redrive from a DLQ. Records are kept whole retention windows
   * (`floor(now / retentionMs)`): until the end of the window after the completion's, so between
   * `retentionMs` and twice it. @default 1209600000 (14 days)
   */
  retentionMs?: number;
  /**
   * Longest one event's handling may hold its key (a crashed consumer's key frees after it).
   * Unset: the key is held until the invocation's deadline (the function's timeout), so a
   * duplicate delivery of the event never takes it over while the handling still runs; 5 minutes
   * when no deadline is known (`INBOX_LEASE_NO_DEADLINE`, warned once). A `leaseMs` shorter than
   * the remaining time is kept, and warned once (`INBOX_LEASE_SHORT`): a duplicate delivered
   * after it may run the effect alongside a handling still going (`allowShortLease: true` says
   * the short lease is meant and silences it).
   * @default the invocation's deadline
   */
  leaseMs?: number;
  /**
   * `true` says a `leaseMs` shorter than the invocations' deadline is meant — a handling known
   * to finish well within it, whose key a crashed consumer should free quickly — and silences
   * the `INBOX_LEASE_SHORT` warning. The lease is the same either way: a handling that outlasts
   * `leaseMs` still loses its key. `true` without `leaseMs` is refused (`CONFIG_INVALID`): with
   * no `leaseMs` there is no short lease to allow (to silence `INBOX_LEASE_NO_DEADLINE`, set
   * `leaseMs`).
   * @default false
   * @example
   * inbox({ store, consumer: 'shipping', leaseMs: 30_000, allowShortLease: true });
   */
  allowShortLease?: boolean;
  /**
   * An event whose predecessor (seq - 1) was not handled yet: `'retry'` (default) fails it
   * (retryable `INBOX_SEQ_GAP`) so the queue delivers it again later; `'accept'` handles it now.
   */
  onGap?: 'retry' | 'accept';
  /**
   * An event whose predecessor (seq - 1) has no marker while this consumer handled no event of
   * its aggregate for at least `retentionMs` (no seen record: inbox-seen.ts) — the aggregate is
   * unseen, and the predecessor's marker expired or was never written, so waiting for it would
   * only burn deliveries. Two ordinary cases: an aggregate idle past the retention (a monthly
   * subscription with the 14-day default), and a consumer added to (or renamed in) a running
   * system, at the first event it gets of each existing aggregate. `'retry'` (default) treats it
   * as a gap (`onGap`, `maxGapRetries`), as for a seen aggregate: order first. `'accept'` handles
   * it at its second delivery (the queue's receive count, `ctx.trigger.attempt`, reaching 2; at
   * once when the trigger counts no deliveries — a Pub/Sub subscription without a dead-letter
   * policy), logging `INBOX_AGGREGATE_UNSEEN` (info): the first delivery is retried as a gap, so
   * a new aggregate's event that merely overtook its first one (seq 2 before seq 1 on a standard
   * queue) waits one visibility timeout for it. The costs of `'accept'`: a first event held back
   * longer than that can be overtaken; and seen records are written from this release on, so an
   * aggregate active before the upgrade counts as unseen until its first completion after it —
   * turn `'accept'` on once twice `retentionMs` has passed since the upgrade (or for a consumer
   * that is new anyway). A seen aggregate's missing predecessor is always a gap.
   * @default 'retry'
   * @example
   * inbox({ store, consumer: 'billing', unseenAggregate: 'accept' });
   */
  unseenAggregate?: 'accept' | 'retry';
  /**
   * With `onGap: 'retry'`, an event is handled anyway on its `maxGapRetries`-th delivery (the
   * queue's receive count, `ctx.trigger.attempt`, reaching it: deliveries before it are retried;
   * its predecessor is lost or outlived the retention); a warning is logged. Keep it at most the
   * queue's redrive `maxReceiveCount`: SQS dead-letters a message after that many receives, so a
   * larger value never gets to handle it — or give `queue`, and the inbox takes the event on the
   * queue's last receive when that comes first. A trigger that gives no delivery count (a
   * Pub/Sub subscription without a dead-letter policy, which then sends no `deliveryAttempt`; a
   * direct call) cannot reach it: its gap is retried on every delivery until the predecessor is
   * handled, warned once (`INBOX_GAP_UNCOUNTED`) — give the subscription a dead-letter policy,
   * or use `onGap: 'accept'`. @default 10
   */
  maxGapRetries?: number;
  /**
   * The queue this consumer reads: `inboxQueue({ client: SQSClient, queueUrl })` from
   * `@steadyfn/outbox/sqs` (a plain `{ client, queueUrl }`, the unreleased development form, is
   * refused, `CONFIG_INVALID` naming that import: the root entry loads no SQS SDK). With it, a
   * seq gap reads the queue's `RedrivePolicy` (`GetQueueAttributes`; needs `sqs:GetQueueAttributes`), kept for
   * 60 s (`RECEIVE_LIMIT_MAX_AGE_MS`; a gap after that reads it again): when its
   * `maxReceiveCount` is below `maxGapRetries`, the event is handled on receive `maxReceiveCount`
   * instead of going to the DLQ unhandled — the policy read again first, so a raised count or a
   * removed DLQ is not acted on stale — and the warning `inbox maxGapRetries is above the queue's
   * maxReceiveCount` is logged once per count read. A policy that cannot be read is warned about
   * and the last one read applies, else `maxGapRetries` as configured; no read is tried again for
   * 10 s after (`RECEIVE_LIMIT_RETRY_AFTER_MS`). A read cut short by the invocation's own signal
   * (its deadline) is not warned about. Default: not read.
   */
  queue?: InboxQueue;
  /**
   * Reads claim-checked bodies: `s3ClaimCheck({ s3 })` from `@steadyfn/outbox/s3`, with a client
   * for the claim-check bucket. A message the relay's sender stored in S3 (attribute
   * `steadyfn.claimCheck`) is fetched and verified against the pointer's size and SHA-256
   * before the function runs; a base64-encoded body (`steadyfn.contentEncoding`) is decoded
   * with or without it. (Before 0.1 this was `s3: S3Client`; that option is refused, naming this one.)
   */
  claimCheck?: ClaimCheckReader;
  /** Reads the message body as the envelope's JSON yourself. Default: the validated input, claim checks resolved. */
  read?: (ctx: Context) => unknown | Promise<unknown>;
}

/** What the inbox adds to `ctx`. */
export interface InboxContext {
  inbox: {
    /** The event being handled. */
    event: EventEnvelope;
    /** The key (consumer, event id) this invocation holds; the outbox's atomic writes use it as their request key. */
    key: string;
    /** True when `seq - 1` of the aggregate was not handled yet and `onGap` let it through. */
    gap: boolean;
    /**
     * True when this delivery was a duplicate the inbox answered without running the function
     * (seen by later hooks, e.g. the outbox's metrics record).
     */
    duplicate: boolean;
  };
}

/** The inbox's per-invocation state (the plugin's state slot). */
export interface InboxState {
  /** The event, once read (in a batch already by `batchOrder`, so `before` does not read it again). */
  event?: EventEnvelope;
  owner?: string;
  eventKey?: string;
  seqKey?: string;
  /** The aggregate's seen record of this retention window, when this handling claimed it (inbox-seen.ts). */
  seenKey?: string;
  /** When the claims of the event record and its seq marker end (ms since the epoch): a failed completion is retried until then. */
  leaseUntil?: number;
  gap: boolean;
}
