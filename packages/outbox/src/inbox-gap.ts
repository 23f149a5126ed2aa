/**
 * The inbox's order check: is the event's predecessor (`seq - 1` of its aggregate) handled? Read
 * through the predecessor's seq marker; no marker is a gap only for an aggregate this consumer
 * handled lately (inbox-seen.ts), else `unseenAggregate` decides. A gap is retried (`onGap:
 * 'retry'`: the event's claim released, `INBOX_SEQ_GAP`, so SQS redelivers it later) until
 * `maxGapRetries` deliveries — or the queue's last receive before its DLQ when that is earlier —,
 * then accepted and warned about.
 */
import type { Context } from '@steadyfn/handler';
import type { IdempotencyStore } from '@steadyfn/idempotency';
import type { EventEnvelope } from './envelope.js';
import { SeqGapError } from './errors.js';
import { storeFailure } from './inbox-records.js';
import type { ReceiveLimit } from './inbox-redrive.js';
import { aggregateSeen } from './inbox-seen.js';

/** The order check's settings (the inbox's options, resolved) and keys. */
export interface GapCheckSettings {
  store: IdempotencyStore;
  consumer: string;
  onGap: 'retry' | 'accept';
  unseenAggregate: 'accept' | 'retry';
  maxGapRetries: number;
  retentionMs: number;
  /** The queue's `maxReceiveCount` reader (`inbox({ queue })`), when given. */
  receiveLimit: ReceiveLimit | undefined;
  /** The seq marker key of (aggregate, seq). */
  seqKeyOf: (agg: string, seq: number) => string;
  /** The aggregate's seen record key of a retention window. */
  seenKeyOf: (agg: string) => (window: number) => string;
}

/** The claim the check releases before a retried gap or a store failure. */
export interface HeldClaim {
  eventKey: string;
  owner: string;
}

/**
 * The order check of one inbox.
 *
 * @returns a check of `event` (of aggregate `agg`, its record claimed as `claim`): resolves to
 *   whether a gap was accepted (`ctx.inbox.gap`); `false` for a first event or a handled
 *   predecessor.
 *   It throws `SeqGapError` (`INBOX_SEQ_GAP`, 503) for a gap retried, the claim released; the store's
 *   failure (`storeFailure`), the claim released.
 */
export function gapCheck(settings: GapCheckSettings): (ctx: Context, event: EventEnvelope, agg: string, claim: HeldClaim) => Promise<boolean> {
  const { store, consumer, onGap, unseenAggregate, maxGapRetries, retentionMs, receiveLimit } = settings;
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
  const released = (claim: HeldClaim): Promise<unknown> => store.release({ key: claim.eventKey, owner: claim.owner }).catch(() => false);

  return async (ctx, event, agg, claim) => {
    if (event.seq <= 1) return false;
    let previous;
    let seen = true;
    try {
      previous = await store.get(settings.seqKeyOf(agg, event.seq - 1), { signal: ctx.signal });
      // No completed predecessor: a gap only if the aggregate was seen lately (inbox-seen.ts).
      if (previous?.status !== 'completed') seen = await aggregateSeen(store, settings.seenKeyOf(agg), Date.now(), retentionMs, ctx.signal);
    } catch (error) {
      await released(claim);
      throw storeFailure(error);
    }
    if (previous?.status === 'completed') return false;
    // An unseen aggregate's event is accepted from its second delivery (or at once when the
    // trigger counts none): the first waits one visibility timeout for a predecessor that was
    // merely overtaken (seq 2 of a new aggregate before seq 1 on a standard queue).
    const delivery = ctx.trigger.kind === 'queue' ? ctx.trigger.attempt : undefined;
    if (!seen && unseenAggregate === 'accept' && (delivery === undefined || delivery >= 2)) {
      ctx.log.info('inbox first event of an unseen aggregate accepted', { consumer, code: 'INBOX_AGGREGATE_UNSEEN', aggregate: agg, seq: event.seq });
      return false;
    }
    const attempt = delivery ?? 1;
    if (onGap === 'retry' && attempt < (await gapLimit(ctx, attempt))) {
      if (delivery === undefined && !uncountedNoted) {
        // maxGapRetries counts deliveries: with no count (a Pub/Sub subscription without a
        // dead-letter policy, a direct call) the gap is retried until its predecessor is
        // handled. Said only here: a limit of 1 accepts the gap at once, and nothing is retried.
        uncountedNoted = true;
        ctx.log.warn('inbox maxGapRetries cannot apply: the trigger gives no delivery count, so a seq gap is retried on every delivery until its predecessor is handled', { consumer, code: 'INBOX_GAP_UNCOUNTED', trigger: ctx.trigger.kind, ...(ctx.trigger.kind === 'queue' ? { source: ctx.trigger.source } : {}) });
      }
      await released(claim);
      throw new SeqGapError(`inbox: event ${event.seq} of ${agg} arrived before ${event.seq - 1} was handled; retry later`, { aggregate: agg, expectedSeq: event.seq - 1, gotSeq: event.seq });
    }
    ctx.log.warn('inbox seq gap accepted', { consumer, aggregate: agg, seq: event.seq, attempt });
    return true;
  };
}
