/**
 * `inbox({ store, consumer })`: the consumer side. SQS delivers each outbox event at least
 * once; the inbox makes its *effect* happen once. Each message is read as an envelope, its
 * key (consumer name, event id) is claimed through an idempotency store, and a duplicate is
 * answered without running the function. `seq` gaps per aggregate are found through a marker
 * (consumer, aggregate, seq) written when an event completes, so order can be restored on a
 * standard queue (`onGap: 'retry'` fails the early event so SQS redelivers it later). Within
 * one batch of a standard queue, the events of one aggregate run one after another in `seq`
 * order (the handler's `batchOrder` hook), so in-order events delivered together need no
 * redelivery; different aggregates run side by side.
 *
 * The function's own write is exactly-once when it joins the inbox key: the outbox's Redis
 * and embedded modes use it as the request key of the invocation's atomic write (a retry after
 * a crash between the write and the inbox completion writes nothing again).
 */
import { createHash, randomUUID } from 'node:crypto';
import { functionStarted, type Context, type Plugin } from '@steadyfn/handler';
import { awsClientOption, checkKnownKeys, intOption, invalidOption, isRecord, keysOf, msOption, oneOfOption, SteadyError, stringOption } from '@steadyfn/handler/internal';
import { scopeOf, storeKey, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord } from '@steadyfn/idempotency';
import { appliedBefore, leaseUntil as leaseUntilOf, MAX_DURATION_MS, purgeBoundsOf, settleLater as retrySettle, type LeaseSettings } from '@steadyfn/lease/internal';
import { aggregateKey, parseEnvelope, type EventEnvelope } from './envelope.js';
import { EventInProgressError, MessageInvalidError, OutboxUnavailableError, SeqConflictError, SeqGapError } from './errors.js';
import { CLAIM_CHECK_ATTRIBUTE, claimCheckFromSubpath, CONTENT_ENCODING_ATTRIBUTE, isClaimCheckReader, missingClaimCheck, readClaimChecked } from './sqs/claim-check.js';
import type { ClaimCheckReader } from './sqs/claim-check.js';
import { receiveLimitOf, type InboxQueue } from './inbox-redrive.js';

/** Options of `inbox()`. */
export interface InboxOptions {
  /** An idempotency store (`redisStore`, `mongoStore`): where (consumer, event id) records live. */
  store: IdempotencyStore;
  /** This consumer's name: part of every key, so consumers sharing a store never collide. */
  consumer: string;
  /**
   * How long a handled event is remembered, counted from its completion: at least the queue's
   * retention plus its DLQ's. `leaseMs` bounds the handling before the completion, so the two
   * cover different times and either may be the longer. @default 1209600000 (14 days)
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
  /** When the claims of the event record and its seq marker end (ms since the epoch): a failed completion is retried until then. */
  leaseUntil?: number;
  gap: boolean;
}

const OWNER = 'inbox';
/** Names in the lease warnings (`INBOX_LEASE_SHORT`, `INBOX_LEASE_NO_DEADLINE`). */
const LEASE_NAMES = { label: 'inbox', code: 'INBOX' } as const;
/** The event record's fingerprint (its key already names the event). Seq markers written by earlier versions carry it too (their event is unknown). */
const FINGERPRINT = 'event';
/** A seq marker's fingerprint: which event (id) holds or applied that seq of the aggregate. */
const markerFingerprint = (event: EventEnvelope) => createHash('sha256').update(event.id).digest('base64url');

/**
 * Creates the inbox plugin for a consumer function.
 *
 * @throws ConfigurationError for invalid options or an unknown option key; an `s3` option (before
 *   0.1), naming `claimCheck: s3ClaimCheck({ s3 })` from `@steadyfn/outbox/s3`.
 * @example
 * export const ship = handler({ use: [inbox({ store: redisStore({ client: redis }), consumer: 'shipping' })] }, async (_input, ctx) => {
 *   await shipOrder(ctx.inbox.event.aggregateId);
 * });
 */
export function inbox(options: InboxOptions): Plugin<InboxContext, InboxState> & { readonly consumer: string } {
  if (typeof options !== 'object' || options === null) invalidOption(OWNER, 'options', 'an object { store, consumer }', options);
  // The option before 0.1: said plainly, not as an unknown key.
  if ('s3' in options && (options as { s3?: unknown }).s3 !== undefined) claimCheckFromSubpath(OWNER, 's3', "claimCheck: s3ClaimCheck({ s3 })", (options as { s3?: unknown }).s3);
  checkKnownKeys(OWNER, '', options, keysOf<InboxOptions>({ store: true, consumer: true, retentionMs: true, leaseMs: true, allowShortLease: true, onGap: true, maxGapRetries: true, queue: true, claimCheck: true, read: true }));
  const store = options.store;
  if (typeof store?.claim !== 'function' || typeof store.completeMany !== 'function') invalidOption(OWNER, 'store', 'an idempotency store: redisStore(...) or mongoStore(...)', store);
  const consumer = stringOption(OWNER, 'consumer', options.consumer);
  const retentionMs = msOption(OWNER, 'retentionMs', options.retentionMs, 14 * 24 * 3_600_000);
  const leaseMs = options.leaseMs === undefined ? undefined : msOption(OWNER, 'leaseMs', options.leaseMs, 0, 1, MAX_DURATION_MS);
  const allowShortLease = oneOfOption(OWNER, 'allowShortLease', options.allowShortLease, [true, false], false);
  if (allowShortLease && leaseMs === undefined) {
    invalidOption(OWNER, 'allowShortLease', 'false or unset while leaseMs is unset (true allows a leaseMs shorter than the deadline; setting leaseMs is what silences INBOX_LEASE_NO_DEADLINE)', true);
  }
  // A short lease allowed on purpose counts as already warned about.
  const lease: LeaseSettings = { leaseMs, noted: { leaseShort: allowShortLease, noDeadline: false } };
  const onGap = oneOfOption(OWNER, 'onGap', options.onGap, ['retry', 'accept'] as const, 'retry');
  const maxGapRetries = intOption(OWNER, 'maxGapRetries', options.maxGapRetries, 10, 1, 1000);
  const receiveLimit = receiveLimitOf(OWNER, options.queue);
  /** The `maxReceiveCount` the cap warning was last logged for: logged again when the policy changes. */
  let cappedNoted: number | undefined;
  /** Whether the gap of a delivery with no count was warned about (once per inbox). */
  let uncountedNoted = false;
  /**
   * The delivery on which a gap is accepted: `maxGapRetries`, or the queue's last receive before
   * its DLQ when that is earlier. Before a gap is accepted on the queue's limit (delivery
   * `attempt` reached it), the policy is read again unless this call just read it: a warm
   * instance's value may predate a raised `maxReceiveCount` or a removed DLQ, and accepting now
   * would skip the retries the queue still gives.
   */
  const gapLimit = async (ctx: Context, attempt: number): Promise<number> => {
    const asked = performance.now();
    let receives = receiveLimit ? await receiveLimit(ctx.log, ctx.signal) : undefined;
    if (receiveLimit && receives !== undefined && receives < maxGapRetries && attempt >= receives) receives = await receiveLimit(ctx.log, ctx.signal, asked);
    if (receives === undefined || receives >= maxGapRetries) return maxGapRetries;
    if (cappedNoted !== receives) {
      cappedNoted = receives;
      ctx.log.warn("inbox maxGapRetries is above the queue's maxReceiveCount; a gap is accepted on the queue's last receive", { consumer, maxGapRetries, maxReceiveCount: receives });
    }
    return receives;
  };
  if (options.read !== undefined && typeof options.read !== 'function') invalidOption(OWNER, 'read', "a function (ctx) => the message body as the envelope's JSON", options.read);
  if (options.claimCheck !== undefined) {
    if (!isClaimCheckReader(options.claimCheck)) claimCheckFromSubpath(OWNER, 'claimCheck', 'claimCheck: s3ClaimCheck({ s3 })', options.claimCheck);
    awsClientOption(OWNER, 'claimCheck.s3', options.claimCheck.s3, 'S3', 'an S3Client from @aws-sdk/client-s3 (to fetch claim-checked bodies)');
  }
  const scope = scopeOf(`inbox:${consumer}`);
  const eventKeyOf = (e: EventEnvelope) => storeKey(scope, { kind: 'custom', value: `event:${e.id}` });
  const seqKeyOf = (agg: string, seq: number) => storeKey(scope, { kind: 'custom', value: `seq:${agg}#${seq}` });

  /**
   * A store call's failure as the invocation's error: an outage (the store's retryable
   * `LEASE_STORE_UNAVAILABLE`, or anything not typed) is `OUTBOX_STORE_UNAVAILABLE` (503,
   * retryable), its cause kept for the log; a store that answered for good — a typed error that
   * is not retryable, as `LEASE_RECORD_UNREADABLE` for a record under the prefix that
   * `@steadyfn/lease` did not write — passes unchanged: it was reached, a redelivery meets the same.
   * A call the invocation's signal cut off at the deadline (the claims and reads of `before` are
   * given `ctx.signal`, so a hung store call is abandoned when the deadline answers, and what a
   * claim wrote is given back by the lease store) is the deadline's own error.
   */
  const unavailable = (error: unknown): Error =>
    (error instanceof SteadyError && !error.retryable) || (error instanceof Error && error.name === 'DeadlineExceededError')
      ? error
      : new OutboxUnavailableError('inbox: the store could not be reached', error);

  /**
   * The error for a seq marker another holder has: the same event's earlier delivery (its lease
   * still runs — killed, or its completion half done) or a pre-fingerprint marker still in
   * progress: retryable, the redelivery after the lease resolves it. Another event id: the
   * producer gave two events one seq — terminal.
   */
  const markerTaken = (event: EventEnvelope, agg: string, record: StoredRecord): Error => {
    const legacy = record.fingerprint === FINGERPRINT || record.fingerprint === '';
    if (record.fingerprint === markerFingerprint(event) || (legacy && record.status === 'in_progress')) {
      return new EventInProgressError('inbox: this event is being handled by another delivery; retry');
    }
    return new SeqConflictError(`inbox: event ${event.seq} of ${agg} was already taken by another event with the same seq`, { aggregate: agg, seq: event.seq });
  };

  /**
   * A duplicate of an applied event: its marker must be completed too, or the aggregate's next
   * event would wait for it (`maxGapRetries`). A kill between the event record's completion and
   * the marker's leaves it held until its lease ends, then absent: the redelivery completes it
   * (expiring with the event record); while it is held, the delivery is retried.
   */
  const restoreMarker = async (event: EventEnvelope, agg: string, seqKey: string, expiresAt: number, leaseUntil: number, signal: AbortSignal): Promise<void> => {
    const owner = randomUUID();
    const fingerprint = markerFingerprint(event);
    try {
      const marker = await store.claim({ key: seqKey, owner, fingerprint, leaseUntil }, { signal });
      if (marker.claimed) {
        await store.complete({ key: seqKey, owner, fingerprint, result: '1', expiresAt });
        return;
      }
      // Completed (by this event, or by another one with the same seq — a conflict, but this event is done): nothing to mend.
      if (marker.record.status === 'completed') return;
    } catch (error) {
      throw unavailable(error);
    }
    throw new EventInProgressError(`inbox: event ${event.seq} of ${agg} was applied, its seq marker is still held; retry`);
  };

  const retryable = (error: unknown): boolean => (error as { retryable?: unknown } | null)?.retryable !== false;
  const lostLease = (ctx: Context, event: EventEnvelope, release: boolean): void =>
    ctx.log.warn(release ? 'inbox record was taken over before its release' : 'inbox record was taken over before completion', { consumer, eventId: event.id });

  /**
   * The completion (or release) of the event record and its seq marker whose store call
   * failed, repeated in the background while their lease lasts (`settleLater` of
   * `@steadyfn/lease/internal`: backing off 50 ms → 500 ms, stopping at a non-retryable error),
   * without holding the answer: a store that restarts under the completion (a Redis that keeps
   * its data, reached through a client that fails at once while disconnected) would otherwise
   * leave the record to expire in progress, and the redelivery would run the function's effect
   * again. Repeating is safe: the store settles only the owner's generation, so a settle
   * applied before its answer was lost is refused the second time (and then read back).
   */
  const settleLater = async (ctx: Context, event: EventEnvelope, requests: ReadonlyArray<CompleteRequest | ReleaseRequest>, until: number): Promise<void> => {
    const settled = await retrySettle(async () => {
      const results = await store.completeMany(requests);
      const refused = requests.filter((_, i) => !results[i]);
      // Refused: applied before its answer was lost (read back), or the record was taken over.
      if (refused.length > 0 && !(await Promise.all(refused.map((r) => appliedBefore((key) => store.get(key), r)))).every(Boolean)) lostLease(ctx, event, !('result' in requests[0]!));
    }, until);
    // A release given up frees itself when the lease ends; a completion given up means the
    // redelivery after the lease runs the effect again: said, so a second effect is explained.
    if (!settled && 'result' in requests[0]!) {
      ctx.log.error('inbox record could not be completed before its lease ended; a redelivery will run the effect again', { code: 'INBOX_COMPLETION_ABANDONED', consumer, eventId: event.id });
    }
  };

  /**
   * Frees the event record and its seq marker (the event was not handled: the function failed,
   * or never ran), so the redelivery runs the function. A release that failed only delays the
   * redelivery until the lease ends; it is retried likewise.
   */
  const release = async (ctx: Context, state: InboxState): Promise<void> => {
    const event = state.event!;
    const requests = [
      { key: state.eventKey!, owner: state.owner! },
      { key: state.seqKey!, owner: state.owner! },
    ];
    await store.completeMany(requests).catch((error: unknown) => {
      ctx.log.warn(retryable(error) ? 'inbox record could not be released; retried until its lease ends' : 'inbox record could not be released; the store refused it, not retried', {
        consumer,
        eventId: event.id,
        cause: error instanceof Error ? error.name : typeof error,
      });
      if (retryable(error)) void settleLater(ctx, event, requests, state.leaseUntil ?? 0).catch(() => undefined);
    });
  };

  const readBody = async (ctx: Context): Promise<unknown> => {
    if (options.read) return options.read(ctx);
    const attributes = ctx.trigger.kind === 'queue' ? ctx.trigger.attributes : {};
    if (attributes[CLAIM_CHECK_ATTRIBUTE] === undefined && attributes[CONTENT_ENCODING_ATTRIBUTE] === undefined) return ctx.input;
    return readClaimChecked({ body: ctx.input, attributes }, options.claimCheck, ctx.signal, () =>
      missingClaimCheck(OWNER, 'claimCheck', "s3ClaimCheck({ s3 }) from '@steadyfn/outbox/s3', with an S3Client that reads the producer's claim-check bucket"),
    );
  };

  const readEvent = async (ctx: Context): Promise<EventEnvelope> => {
    const body = await readBody(ctx);
    const parsed = parseEnvelope(body);
    if (!parsed.ok) throw new MessageInvalidError(`inbox: the message is not an outbox event (${parsed.reason})`, { logFields: { reason: parsed.reason } });
    return parsed.event;
  };

  return {
    name: `inbox:${consumer}`,
    consumer,
    state: () => ({ gap: false }),
    extend() {
      // The event is read in `before` (after validation); members are filled in there.
      return { inbox: { duplicate: false } as InboxContext['inbox'] };
    },
    // A batch of a standard queue: one aggregate's events run one by one in seq order.
    async batchOrder(ctx, slot) {
      try {
        slot.event = await readEvent(ctx);
      } catch {
        // Not an event (or its claim check cannot be read): it runs on its own, and `before` fails it.
        return undefined;
      }
      return { group: aggregateKey(slot.event.aggregateType, slot.event.aggregateId), seq: slot.event.seq };
    },
    async before(ctx, slot) {
      const event = slot.event ?? (await readEvent(ctx));
      const agg = aggregateKey(event.aggregateType, event.aggregateId);
      const leaseUntil = leaseUntilOf(lease, ctx, Date.now(), LEASE_NAMES);
      const state = { event, owner: randomUUID(), eventKey: eventKeyOf(event), seqKey: seqKeyOf(agg, event.seq), leaseUntil, gap: false };
      let claimed;
      try {
        claimed = await store.claim({ key: state.eventKey, owner: state.owner, fingerprint: FINGERPRINT, leaseUntil }, { signal: ctx.signal });
      } catch (error) {
        throw unavailable(error);
      }
      if (!claimed.claimed) {
        if (claimed.record.status === 'completed') {
          await restoreMarker(event, agg, state.seqKey, claimed.record.expiresAt, leaseUntil, ctx.signal);
          ctx.log.info('inbox duplicate', { consumer, eventId: event.id, aggregate: agg, seq: event.seq });
          ctx.inbox.duplicate = true;
          return { answer: { duplicate: true, eventId: event.id } };
        }
        throw new EventInProgressError('inbox: this event is being handled by another delivery; retry');
      }
      if (event.seq > 1) {
        let previous;
        try {
          previous = await store.get(seqKeyOf(agg, event.seq - 1), { signal: ctx.signal });
        } catch (error) {
          await store.release({ key: state.eventKey, owner: state.owner }).catch(() => false);
          throw unavailable(error);
        }
        if (previous?.status !== 'completed') {
          const known = ctx.trigger.kind === 'queue' ? ctx.trigger.attempt : undefined;
          const attempt = known ?? 1;
          if (onGap === 'retry' && attempt < (await gapLimit(ctx, attempt))) {
            if (known === undefined && !uncountedNoted) {
              // maxGapRetries counts deliveries: with no count (a Pub/Sub subscription without a
              // dead-letter policy, a direct call) the gap is retried until its predecessor is
              // handled. Said only here: a limit of 1 accepts the gap at once, and nothing is retried.
              uncountedNoted = true;
              ctx.log.warn('inbox maxGapRetries cannot apply: the trigger gives no delivery count, so a seq gap is retried on every delivery until its predecessor is handled', { consumer, code: 'INBOX_GAP_UNCOUNTED', trigger: ctx.trigger.kind, ...(ctx.trigger.kind === 'queue' ? { source: ctx.trigger.source } : {}) });
            }
            await store.release({ key: state.eventKey, owner: state.owner }).catch(() => false);
            throw new SeqGapError(`inbox: event ${event.seq} of ${agg} arrived before ${event.seq - 1} was handled; retry later`, { aggregate: agg, expectedSeq: event.seq - 1, gotSeq: event.seq });
          }
          state.gap = true;
          ctx.log.warn('inbox seq gap accepted', { consumer, aggregate: agg, seq: event.seq, attempt });
        }
      }
      // The seq marker is held with the same owner, so both complete (or release) together.
      let marker;
      try {
        marker = await store.claim({ key: state.seqKey, owner: state.owner, fingerprint: markerFingerprint(event), leaseUntil }, { signal: ctx.signal });
      } catch (error) {
        await store.release({ key: state.eventKey, owner: state.owner }).catch(() => false);
        throw unavailable(error);
      }
      if (!marker.claimed) {
        if (marker.record.status === 'completed' && marker.record.fingerprint === markerFingerprint(event)) {
          // This event was applied (its marker completes only after the function), but its own
          // record was lost (a kill between the two writes): record it, answer the duplicate.
          await store.complete({ key: state.eventKey, owner: state.owner, fingerprint: FINGERPRINT, result: '1', expiresAt: marker.record.expiresAt }).catch(() => false);
          ctx.log.info('inbox duplicate', { consumer, eventId: event.id, aggregate: agg, seq: event.seq });
          ctx.inbox.duplicate = true;
          return { answer: { duplicate: true, eventId: event.id } };
        }
        await store.release({ key: state.eventKey, owner: state.owner }).catch(() => false);
        throw markerTaken(event, agg, marker.record);
      }
      Object.assign(slot, state);
      Object.assign(ctx.inbox, { event, key: `inbox:${consumer}:${event.id}`, gap: state.gap });
    },
    async after(ctx, _result, state) {
      const event = state.event;
      if (!state.owner || !event) return;
      // A later plugin answered in the function's place (its `before` or `wrap`): the event was
      // not handled, so it is released like a failure, and its redelivery runs the function.
      if (!functionStarted(ctx)) return release(ctx, state);
      const expiresAt = Date.now() + retentionMs;
      const requests = [
        { key: state.eventKey!, owner: state.owner, fingerprint: FINGERPRINT, result: '1', expiresAt },
        { key: state.seqKey!, owner: state.owner, fingerprint: markerFingerprint(event), result: '1', expiresAt },
      ];
      let results: boolean[];
      try {
        results = await store.completeMany(requests);
      } catch (error) {
        // The effect happened: failing now would run it again. Completed in the background while the lease lasts.
        ctx.log.error(retryable(error) ? 'inbox record could not be completed; retried until its lease ends' : 'inbox record could not be completed; the store refused it, not retried', {
          consumer,
          eventId: event.id,
          cause: error instanceof Error ? error.name : typeof error,
        });
        if (retryable(error)) void settleLater(ctx, event, requests, state.leaseUntil ?? 0).catch(() => undefined);
        return;
      }
      if (results.some((ok) => !ok)) lostLease(ctx, event, false);
    },
    async onError(ctx, _error, state) {
      if (!state.owner || !state.event) return;
      // Failed, or never ran (a later plugin's `before` threw): either way released for the redelivery.
      await release(ctx, state);
    },
  };
}

/** Options of `inboxCleanup`. */
export interface InboxCleanupOptions {
  /**
   * The inbox's `mongoStore(...)`: its `purge()` deletes the records that ended more than its
   * `retainMs` ago (what the TTL index does where the server has one).
   */
  store: { purge(options?: { signal?: AbortSignal; batchSize?: number; maxDeletes?: number }): Promise<{ deleted: number }> };
  /** Aborts the sweep (pass `ctx.signal`): no further batch is deleted once it aborts. */
  signal?: AbortSignal;
  /**
   * How many records one delete removes (the store reads that many expired `_id`s, then
   * deletes them): no single write holds the server longer. Integer from 1 to 1,000.
   * @default 500
   * @example inboxCleanup({ store, batchSize: 100 })
   */
  batchSize?: number;
  /**
   * The most records one call deletes; the rest are left to the schedule's next run.
   * Integer ≥ 1.
   * @default 10_000
   * @example inboxCleanup({ store, maxDeletes: 2_000, signal: ctx.signal })
   */
  maxDeletes?: number;
}

/**
 * The cleanup sweep for an inbox on a server without TTL indexes (FerretDB): run it from a
 * schedule. It is the store's own `purge()` — the records are `@steadyfn/lease` generations,
 * which only the lease store may judge purgeable. Servers with TTL indexes (MongoDB, after
 * `mongoStore(...).ensureIndexes()`) and Redis expire records themselves. Bounded: it deletes
 * `batchSize` records per delete and at most `maxDeletes` per call, so a backlog is worked
 * off over several runs of the schedule rather than by one long delete.
 *
 * @returns how many records were deleted (at most `maxDeletes`). Whether expired records are
 *   left (it stopped at `maxDeletes`) is what the store's own `purge()` answers as `more`: call
 *   `store.purge({ batchSize, maxDeletes, signal })` instead when the caller needs it.
 * @throws ConfigurationError when `store` is not a store with `purge()` (a `mongoStore`), for
 *   a `batchSize` or `maxDeletes` out of range, or for an unknown option key.
 */
export async function inboxCleanup(options: InboxCleanupOptions): Promise<number> {
  if (!isRecord(options)) invalidOption('inboxCleanup', 'options', 'an object { store }', options);
  const store = options.store as unknown as Record<string, unknown> | undefined;
  if (!isRecord(store) || typeof store.purge !== 'function') {
    invalidOption('inboxCleanup', 'store', "the inbox's mongoStore(...) (its purge() deletes expired records)", options.store);
  }
  // After the store: the likeliest stray key is the old `collection`, which the store message explains.
  checkKnownKeys('inboxCleanup', '', options, keysOf<InboxCleanupOptions>({ store: true, signal: true, batchSize: true, maxDeletes: true }));
  const bounds = purgeBoundsOf('inboxCleanup', { batchSize: options.batchSize, maxDeletes: options.maxDeletes });
  return (await options.store.purge({ ...bounds, ...(options.signal === undefined ? {} : { signal: options.signal }) })).deleted;
}
