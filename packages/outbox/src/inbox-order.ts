/**
 * How the inbox orders a standard-queue batch without reading every body first (the handler's
 * `batchOrder` hook asks for all of a batch's messages at once): by the attributes the relay
 * gives each message, and a cap on the claim-checked bodies read at once where a body must be read.
 */
import type { Context } from '@steadyfn/handler';
import { ATTRIBUTES } from './relay/message.js';

/**
 * Claim-checked bodies one inbox reads at once (S3 GETs in flight, with their bodies): a
 * standard-queue batch holds up to 10,000 messages, and its records run side by side — they
 * must not open as many GETs at once. The same cap as the idempotency plugin's claims.
 */
export const CLAIM_CHECK_READS_IN_FLIGHT = 16;
/** A relay message's `steadyfn.seq`: a whole number ≥ 1 in decimal, no sign or leading zero. */
const SEQ_ATTRIBUTE = /^[1-9][0-9]{0,15}$/;

/**
 * The batch order of a message from the attributes the relay gives every message
 * (`steadyfn.aggregate` = aggregateType/aggregateId, `steadyfn.seq`; relay/message.ts), without
 * reading its body — which, claim-checked, is an S3 GET. Undefined when they are absent or not
 * the relay's (a message sent otherwise): its body is read instead. The order only schedules the
 * batch; `before` reads the event itself, and its seq marker is what keeps order.
 */
export function orderFromAttributes(ctx: Context): { group: string; seq: number } | undefined {
  if (ctx.trigger.kind !== 'queue') return undefined;
  const aggregate = ctx.trigger.attributes[ATTRIBUTES.aggregate];
  const seq = ctx.trigger.attributes[ATTRIBUTES.seq];
  if (typeof aggregate !== 'string' || aggregate === '' || typeof seq !== 'string' || !SEQ_ATTRIBUTE.test(seq)) return undefined;
  const n = Number(seq);
  return Number.isSafeInteger(n) ? { group: aggregate, seq: n } : undefined;
}

