/**
 * A size refusal a stale `MaximumMessageSize` could explain. The sender reads the queue's limit
 * once and caches it; the queue's owner may change it later (SetQueueAttributes, or the queue
 * recreated with another limit) while a warm instance keeps the old value. Then:
 * - lowered: SQS refuses the messages between the two limits (`InvalidParameterValue`,
 *   "Message must be shorter than … bytes", per entry or — moto — for the whole call, which the
 *   sender bisects down to the entry; `BatchRequestTooLong` for a lone entry);
 * - raised: the sender itself refuses messages the queue now takes (`OUTBOX_SQS_MESSAGE_TOO_LARGE`).
 * Either way the message may be fine under the queue's current limit, so it is no sender fault
 * yet: the sender re-reads the limit (once per `send()`) and sends again what such a refusal
 * held back. A change can also take up to 60 s to reach every SQS server: meanwhile SQS may
 * refuse a message that fits the limit `GetQueueAttributes` answers — not the message's fault
 * either. SQS's text tells a size refusal from another `InvalidParameterValue` (`refusalReason`):
 * only the first may be a stale limit's. Pure: which failures to send again or acquit, no I/O.
 */
import { normaliseCode } from './classify.js';
import { SendFailureCode } from './errors.js';
import { SERVICE_MIN_MESSAGE_BYTES } from './limits.js';
import type { FailedEntry } from './types.js';

/** Codes SQS refuses an oversized message with (SendMessageBatch per entry, or a call for one entry). */
const SIZE_REFUSALS = new Set(['InvalidParameterValue', 'BatchRequestTooLong']);

/**
 * SQS's words for a size refusal: "Message must be shorter than 262144 bytes." (SQS, moto and
 * fauxqs, per entry or for the call), "Batch requests cannot be longer than … bytes".
 */
const SIZE_TEXT = /(?:shorter|longer|smaller|less) than [\d,]+ ?bytes|too (?:long|large|big)|exceed/i;

/**
 * What SQS refused a message for, as far as its answer tells: `'size'`, `'other'` (its text
 * names another reason: an `InvalidParameterValue` for a parameter's value, say), or
 * `undefined` when its text names no reason. Only this verdict is kept: SQS's text may quote the
 * message's values, so it never reaches a report or a log.
 * @param code SQS's code, normalised (`normaliseCode`)
 * @param text SQS's message for the entry (its `Failed` entry's `Message`, or the refused call's)
 */
export function refusalReason(code: string, text: string | undefined): RefusalReason | undefined {
  if (code === 'BatchRequestTooLong') return 'size';
  const said = typeof text === 'string' ? text.trim() : '';
  // No reason given: no text, the SDK's stand-in for one (the code itself, `UnknownError`), or SQS's preamble alone.
  if (said === '' || normaliseCode(said) === code || NO_REASON.test(said)) return undefined;
  return SIZE_TEXT.test(said) ? 'size' : 'other';
}

/** Texts that name no reason. */
const NO_REASON = /^(?:unknown(?:error)?|one or more parameters are invalid\.?)$/i;

/** What SQS refused a message for (`refusalReason`). */
export type RefusalReason = 'size' | 'other';

/**
 * Whether `failure` could be a refusal for size under a stale cached limit: the sender's own
 * `OUTBOX_SQS_MESSAGE_TOO_LARGE`, or SQS's sender-fault size refusal of a message larger than
 * the smallest limit a queue can have (`bytes`: its size as sent; a smaller one was refused for
 * something else) — unless SQS's text named another reason (`reason` `'other'`): that one is
 * the sender fault it is, whatever the message's size. Without a text, the code alone decides.
 */
export function mayBeStaleLimit(failure: FailedEntry, bytes: number | undefined, reason?: RefusalReason): boolean {
  if (failure.code === SendFailureCode.tooLarge) return true;
  if (reason === 'other') return false;
  return failure.senderFault && SIZE_REFUSALS.has(normaliseCode(failure.code)) && bytes !== undefined && bytes > SERVICE_MIN_MESSAGE_BYTES;
}

/** One failure of the first pass, with where its message was in the input. */
export interface FirstPassFailure {
  failure: FailedEntry;
  index: number;
  group: string | undefined;
  /** `mayBeStaleLimit` said so. */
  suspect: boolean;
}

/**
 * The failures to send again under the fresh limit, in input order: every suspect, and every
 * `OUTBOX_SQS_GROUP_BLOCKED` message held behind one — unless an earlier message of the same
 * group failed for another reason (it stays failed, so what follows it in its group waits too).
 */
export function toResend(failures: ReadonlyArray<FirstPassFailure>): FirstPassFailure[] {
  const out: FirstPassFailure[] = [];
  const stuck = new Set<string>();
  const resent = new Set<string>();
  for (const f of [...failures].sort((a, b) => a.index - b.index)) {
    if (f.failure.code === SendFailureCode.duplicateId) continue;
    const g = f.group;
    if (g !== undefined && stuck.has(g)) continue;
    const heldBehindResent = f.failure.code === SendFailureCode.groupBlocked && g !== undefined && resent.has(g);
    if (f.suspect || heldBehindResent) {
      out.push(f);
      if (g !== undefined) resent.add(g);
    } else if (g !== undefined) stuck.add(g);
  }
  return out;
}

/**
 * Whether SQS itself refused the suspect `f` for its size, as opposed to the sender's own check
 * (`OUTBOX_SQS_MESSAGE_TOO_LARGE`): the sender had packed it within the limit it held.
 */
export function refusedBySqs(f: FirstPassFailure): boolean {
  return f.suspect && f.failure.code !== SendFailureCode.tooLarge;
}

/**
 * Rewrites, in place, the failures `which` selects as no sender fault (the relay keeps them
 * pending instead of quarantining them), with `verdict`'s `retryable`, `judged` and `message`;
 * their `code` stays.
 */
export function acquit(failures: ReadonlyArray<FirstPassFailure>, which: (f: FirstPassFailure) => boolean, verdict: Pick<FailedEntry, 'retryable' | 'judged' | 'message'>): void {
  for (const f of failures) if (which(f)) Object.assign(f.failure, { senderFault: false, ...verdict });
}
