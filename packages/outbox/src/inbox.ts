/**
 * `inbox({ store, consumer })`: the consumer side. SQS delivers each outbox event at least
 * once; the inbox makes its *effect* happen once. Each message is read as an envelope, its
 * key (consumer name, event id) is claimed through an idempotency store, and a duplicate is
 * answered without running the function. `seq` gaps per aggregate are found through a marker
 * (consumer, aggregate, seq) written when an event completes, so order can be restored on a
 * standard queue (`onGap: 'retry'` fails the early event so SQS redelivers it later) — a gap
 * only for an aggregate this consumer handled lately (inbox-seen.ts; else `unseenAggregate`). Within
 * one batch of a standard queue, the events of one aggregate run one after another in `seq`
 * order (the handler's `batchOrder` hook, ordered by the relay's `steadyfn.aggregate` and
 * `steadyfn.seq` attributes so no body is read for it; inbox-order.ts), so in-order events
 * delivered together need no redelivery; different aggregates run side by side. At most
 * `CLAIM_CHECK_READS_IN_FLIGHT` claim-checked bodies are read from S3 at once (inbox-read.ts).
 *
 * Here: the options, the claims (the event's record, its seq marker and the aggregate's seen
 * record) and the hooks; the order check is inbox-gap.ts, completion and release inbox-settle.ts.
 *
 * The function's own write is exactly-once when it joins the inbox key: the outbox's Redis
 * and embedded modes use it as the request key of the invocation's atomic write (a retry after
 * a crash between the write and the inbox completion writes nothing again).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Plugin } from '@steadyfn/handler';
import { effectsPending, functionReturned, functionStarted, ownItemFailed, recoveredFrom, refuseEffectsWriterBefore } from '@steadyfn/handler/internal';
import { awsClientOption, checkKnownKeys, intOption, invalidOption, keysOf, msOption, oneOfOption, stringOption } from '@steadyfn/handler/internal';
import { scopeOf, storeKey } from '@steadyfn/idempotency';
import { leaseUntil as leaseUntilOf, MAX_DURATION_MS, type LeaseSettings } from '@steadyfn/lease/internal';
import { aggregateKey, type EventEnvelope } from './envelope.js';
import { EventInProgressError } from './errors.js';
import { claimCheckFromSubpath, isClaimCheckReader } from './sqs/claim-check.js';
import { gapCheck } from './inbox-gap.js';
import { orderFromAttributes } from './inbox-order.js';
import type { InboxContext, InboxOptions, InboxState } from './inbox-options.js';
import { eventReader } from './inbox-read.js';
import { FINGERPRINT, markerFingerprint, markerTaken, restoreMarker, storeFailure } from './inbox-records.js';
import { receiveLimitOf } from './inbox-redrive.js';
import { seenId, windowOf } from './inbox-seen.js';
import { completeEvent, releaseEvent, type InboxRecords } from './inbox-settle.js';

export type { InboxContext, InboxOptions, InboxState } from './inbox-options.js';
export { inboxCleanup, type InboxCleanupOptions } from './inbox-cleanup.js';

const OWNER = 'inbox';

/** Names in the lease warnings (`INBOX_LEASE_SHORT`, `INBOX_LEASE_NO_DEADLINE`). */
const LEASE_NAMES = { label: 'inbox', code: 'INBOX' } as const;
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
  checkKnownKeys(OWNER, '', options, keysOf<InboxOptions>({ store: true, consumer: true, retentionMs: true, leaseMs: true, allowShortLease: true, onGap: true, unseenAggregate: true, maxGapRetries: true, queue: true, claimCheck: true, read: true }));
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
  const unseenAggregate = oneOfOption(OWNER, 'unseenAggregate', options.unseenAggregate, ['accept', 'retry'] as const, 'retry');
  const maxGapRetries = intOption(OWNER, 'maxGapRetries', options.maxGapRetries, 10, 1, 1000);
  const receiveLimit = receiveLimitOf(OWNER, options.queue);
  if (options.read !== undefined && typeof options.read !== 'function') invalidOption(OWNER, 'read', "a function (ctx) => the message body as the envelope's JSON", options.read);
  if (options.claimCheck !== undefined) {
    if (!isClaimCheckReader(options.claimCheck)) claimCheckFromSubpath(OWNER, 'claimCheck', 'claimCheck: s3ClaimCheck({ s3 })', options.claimCheck);
    awsClientOption(OWNER, 'claimCheck.s3', options.claimCheck.s3, 'S3', 'an S3Client from @aws-sdk/client-s3 (to fetch claim-checked bodies)');
  }
  const scope = scopeOf(`inbox:${consumer}`);
  const eventKeyOf = (e: EventEnvelope) => storeKey(scope, { kind: 'custom', value: `event:${e.id}` });
  const seqKeyOf = (agg: string, seq: number) => storeKey(scope, { kind: 'custom', value: `seq:${agg}#${seq}` });
  const seenKeyOf = (agg: string) => (w: number) => storeKey(scope, { kind: 'custom', value: seenId(agg, w) });

  const records: InboxRecords = { store, consumer };
  // `owner` is cleared once the claims are settled (the requests read it synchronously): nothing settles them twice.
  const release = (ctx: Context, state: InboxState): Promise<void> => {
    const releasing = releaseEvent(records, ctx, state);
    delete state.owner;
    return releasing;
  };

  // A failure of the invocation. The function failed, or never ran (a later plugin's `before`
  // threw): released for the redelivery. It returned, and a later plugin failed after it (its
  // `after` or `wrap` threw, a result the provider refused): its effects are done, so the event is
  // completed and the redelivery answers as a duplicate — unless the outbox's write (joining the
  // inbox's key) was not committed: it failed, or a plugin listed after the outbox failed before
  // it (`effectsPending`, marked by the outbox until its write committed): released, the
  // redelivery writes once.
  const settleFailure = (ctx: Context & InboxContext, state: InboxState): Promise<void> => {
    if (functionReturned(ctx) === undefined || effectsPending(ctx)) return release(ctx, state);
    const completing = completeEvent(records, ctx, state, retentionMs);
    delete state.owner;
    return completing;
  };

  const readEvent = eventReader(OWNER, options);
  const checkGap = gapCheck({ store, consumer, onGap, unseenAggregate, maxGapRetries, retentionMs, receiveLimit, seqKeyOf, seenKeyOf });

  return {
    name: `inbox:${consumer}`,
    consumer,
    state: () => ({ gap: false }),
    extend(ctx) {
      // Before any claim: the outbox listed before the inbox marked its effects pending in its own extend.
      refuseEffectsWriterBefore(ctx, 'inbox', 'event');
      // The event is read in `before` (after validation); members are filled in there.
      return { inbox: { duplicate: false } as InboxContext['inbox'] };
    },
    // A batch of a standard queue: one aggregate's events run one by one in seq order. Ordered
    // by the relay's attributes when the message has them (its body, maybe an S3 object, is read
    // when the record runs); else by its event, read now (claim-checked reads capped like any).
    async batchOrder(ctx, slot) {
      const order = orderFromAttributes(ctx);
      if (order !== undefined) return order;
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
        throw storeFailure(error);
      }
      if (!claimed.claimed) {
        if (claimed.record.status === 'completed') {
          await restoreMarker(store, event, agg, state.seqKey, claimed.record.expiresAt, leaseUntil, ctx.signal);
          ctx.log.info('inbox duplicate', { consumer, eventId: event.id, aggregate: agg, seq: event.seq });
          ctx.inbox.duplicate = true;
          return { answer: { duplicate: true, eventId: event.id } };
        }
        throw new EventInProgressError('inbox: this event is being handled by another delivery; retry');
      }
      // The order check: a gap retried throws (the claim released); one accepted is noted.
      state.gap = await checkGap(ctx, event, agg, state);
      // The seq marker and this window's seen record are held with the same owner, so all complete
      // (or release) together. A seen record someone holds or completed is theirs: not settled here.
      const seenKey = seenKeyOf(agg)(windowOf(Date.now(), retentionMs));
      let claims;
      try {
        claims = await store.claimMany(
          [
            { key: state.seqKey, owner: state.owner, fingerprint: markerFingerprint(event), leaseUntil },
            { key: seenKey, owner: state.owner, fingerprint: FINGERPRINT, leaseUntil },
          ],
          { signal: ctx.signal },
        );
      } catch (error) {
        await store.release({ key: state.eventKey, owner: state.owner }).catch(() => false);
        throw storeFailure(error);
      }
      const [marker, seenClaim] = [claims[0]!, claims[1]!];
      if (!marker.claimed && seenClaim.claimed) await store.release({ key: seenKey, owner: state.owner }).catch(() => false);
      if (marker.claimed && seenClaim.claimed) Object.assign(state, { seenKey });
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
    async after(ctx, result, state) {
      const event = state.event;
      if (!state.owner || !event) return;
      // A later plugin answered in the function's place (its `before` or `wrap`): the event was
      // not handled, so it is released like a failure, and its redelivery runs the function.
      if (!functionStarted(ctx)) return release(ctx, state);
      // A later plugin recovered from a failure (an `onError` fallback): released when the
      // function failed, completed when it returned and the failure came after (as in onError).
      if (recoveredFrom(ctx) !== undefined) return settleFailure(ctx, state);
      // Under middy, the handler answered a partial batch response reporting this message failed
      // (`{ batchItemFailures: [{ itemIdentifier }] }`): SQS redelivers it, so released like a
      // failure; completed, the redelivery would be answered as a duplicate and the effect lost.
      if (ownItemFailed(ctx, result)) return release(ctx, state);
      // A writer listed before the inbox (its `after` runs later) has not written the effects yet:
      // completed now, a failed write would lose them. Released; the order is refused in `extend`,
      // this guards a writer that marks its effects pending only once running.
      if (effectsPending(ctx)) return release(ctx, state);
      const completing = completeEvent(records, ctx, state, retentionMs);
      delete state.owner;
      await completing;
    },
    async onError(ctx, _error, state) {
      if (!state.owner || !state.event) return;
      await settleFailure(ctx, state);
    },
    // Defence in depth: claims still held here had their after and onError skipped (under
    // toMiddy(), an outer steadyfn after that threw on a recovered answer; another plugin's bug):
    // released now rather than at the lease's end. A plain middy onError that recovers inside the
    // toMiddy() ones ends middy's chain with no steadyfn hook run, this one included (README).
    // Not async: the common case returns no promise.
    finally(ctx, _outcome, state) {
      if (!state.owner || !state.event) return undefined;
      ctx.log.warn('inbox claim was neither completed nor released by after or onError; released in finally', { consumer, eventId: state.event.id, code: 'INBOX_RELEASED_LATE' });
      return release(ctx, state);
    },
  };
}
