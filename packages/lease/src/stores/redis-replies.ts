/**
 * Reading the Redis lease scripts' replies: a stored value as a `LeaseRecord`, and what a claim
 * that found a live record answers (see `redis-scripts.ts` for the replies' shapes, `redis-record.ts` for the values').
 */
import { LeaseRecordUnreadableError } from '../errors.js';
import type { ClaimRequest, ClaimResult, LeaseRecord } from '../types.js';
import { parseValue } from './redis-record.js';

/** The live record `value` is, its key's TTL `pttl` read at `now`; undefined when released or ended. */
export function recordOf(value: string, pttl: number, now: number): LeaseRecord | undefined {
  const parsed = parseValue(value);
  if (!parsed) throw new LeaseRecordUnreadableError();
  if (parsed.state === 'f' || pttl <= parsed.retainMs) return undefined;
  const expiresAt = now + pttl - parsed.retainMs;
  if (parsed.state === 'd') return { state: 'done', fence: parsed.fence, expiresAt, data: parsed.data ?? '' };
  const held: LeaseRecord = { state: 'held', fence: parsed.fence, owner: parsed.owner, expiresAt };
  if (parsed.data !== undefined) held.data = parsed.data;
  return held;
}

/**
 * What a live record the claim script found answers `r` — the one judgment of `claim` and
 * `claimMany` alike. Held by `r.owner` with `r.data`: this claim's own first run, whose reply
 * was lost and which ioredis sent again after reconnecting (`autoResendUnfulfilledCommands`,
 * on by default), so claimed — with the generation that run made (no new fence) and the lease
 * it set, as the key's TTL and the record's own `retainMs` tell (not extended). Owner tokens
 * are one per claim attempt (`ClaimRequest.owner`), so nobody else's claim reads so; the same
 * owner with other data is another attempt reusing its token, refused like any holder.
 */
export function answerLive(r: ClaimRequest, record: LeaseRecord): ClaimResult {
  return record.state === 'held' && record.owner === r.owner && record.data === r.data
    ? { claimed: true, fence: record.fence, expiresAt: record.expiresAt }
    : { claimed: false, record };
}

/** One key's reply of `CLAIM` (`{tag, fence or value, pttl}`) for request `r`, sent at `now`, on a store keeping `retainMs`. */
export function claimReply(reply: unknown, r: ClaimRequest, now: number, retainMs: number): ClaimResult {
  // Integers read with Number(): ioredis's `stringNumbers` option hands them over as strings.
  const [t, a, b] = reply as [unknown, unknown, unknown];
  const tag = Number(t);
  if (tag === 1) return { claimed: true, fence: Number(a), expiresAt: now + Number(b) - retainMs };
  if (tag === 0) {
    const record = recordOf(String(a), Number(b), now);
    // The script found it live; the reply is read a moment later.
    if (record) return answerLive(r, record);
  }
  throw new LeaseRecordUnreadableError();
}

/** A single claim's reply (see `CLAIM_ONE`): the fence, `<pttl>:<value>` for a live record, or -1. */
export function claimOneReply(reply: unknown, r: ClaimRequest, now: number): ClaimResult {
  // An integer reply is a number, or a string of digits with ioredis's `stringNumbers`
  // option; a live record's reply always holds a ':'.
  const colon = typeof reply === 'string' ? reply.indexOf(':') : -1;
  if (colon < 0) {
    const fence = typeof reply === 'number' || typeof reply === 'string' ? Number(reply) : Number.NaN;
    // Another program's key (-1): the script wrote nothing.
    if (fence >= 1) return { claimed: true, fence, expiresAt: now + r.leaseMs };
  } else {
    // The script found it live; the reply is read a moment later.
    const text = reply as string;
    const record = colon > 0 ? recordOf(text.slice(colon + 1), Number(text.slice(0, colon)), now) : undefined;
    if (record) return answerLive(r, record);
  }
  throw new LeaseRecordUnreadableError();
}
