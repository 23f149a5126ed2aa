/**
 * Poison detection by attempts begun against attempts that ended (after
 * pg-transactional-outbox): an event whose relay keeps crashing the process or being refused
 * is found even though no error was ever recorded for it.
 *
 * Three counters per pending event: `started` (attempts begun), `finished` (attempts that
 * ended, judged or not) and `unjudged` (finished attempts SQS never judged: the whole call
 * failed for transient or infrastructure reasons, or the deadline aborted it). Toward
 * `maxAttempts` count the attempts begun minus the unjudged ones — SQS's refusals and the
 * crashes — so an SQS outage, however long and however many sweeps run through it, counts
 * nothing. Toward `maxUnfinishedAttempts` count the attempts begun that never ended: a
 * process killed mid-attempt. The relay records an attempt aborted by its deadline as
 * finished (it aborts `reserveMs` before the deadline and writes the record with the time
 * left), so an outage does not turn into "unfinished" attempts either.
 */
import type { StoredEvent } from './types.js';

/** When an event counts as poison. */
export interface PoisonPolicy {
  /**
   * Most relay attempts for one event that SQS judged (a per-entry refusal) or that crashed;
   * attempts SQS never judged (outage, throttling of the whole call, deadline abort) do not count.
   * @default 10
   */
  maxAttempts: number;
  /** Most attempts begun that never ended (the process crashed or was killed mid-attempt). @default 3 */
  maxUnfinishedAttempts: number;
}

export const DEFAULT_POISON: PoisonPolicy = { maxAttempts: 10, maxUnfinishedAttempts: 3 };

/**
 * Why `event` is poison, or undefined. `started` already counts the attempt now beginning,
 * so `started - finished - 1` attempts before it never ended, and `started - unjudged - 1`
 * before it were refused or crashed.
 */
export function poisonReason(event: StoredEvent, policy: PoisonPolicy): string | undefined {
  const counted = event.started - event.unjudged;
  if (counted > policy.maxAttempts) return `attempts: ${counted - 1} relay attempts failed`;
  const unfinished = event.started - event.finished - 1;
  if (unfinished >= policy.maxUnfinishedAttempts) return `crashes: ${unfinished} relay attempts never finished`;
  return undefined;
}
