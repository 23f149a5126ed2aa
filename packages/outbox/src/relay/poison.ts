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
 * nothing. The relay records an attempt aborted by its deadline as finished (it aborts
 * `reserveMs` before the deadline and writes the record with the time left), so an outage
 * does not turn into "unfinished" attempts either.
 *
 * Crashes are judged in isolation. An attempt that never ended (a process killed mid-send:
 * scale-in, a deploy, OOM) says nothing about which of the round's events caused it — a round
 * holds up to chunk × parallel aggregates. So an event with an unfinished attempt behind it is
 * a *suspect*: a round that read more than it is not sent with it — that aggregate's attempt is
 * ended at once (finished, unjudged: nothing counted) and the aggregate is relayed next in a
 * round of its own, one event per call. Toward `maxUnfinishedAttempts` count only the
 * unfinished attempts made alone: every unfinished attempt but the first (the one that made
 * the event a suspect). An event that kills its relay every time is quarantined after
 * `maxUnfinishedAttempts + 1` kills; events that only shared a killed round never are.
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
  /**
   * Most attempts that never ended (the process crashed or was killed mid-attempt) made with the
   * event alone in its round, after the unfinished attempt that made it a suspect: the event is
   * quarantined after `maxUnfinishedAttempts + 1` unfinished attempts in all. @default 3
   */
  maxUnfinishedAttempts: number;
}

export const DEFAULT_POISON: PoisonPolicy = { maxAttempts: 10, maxUnfinishedAttempts: 3 };

/** Attempts before the one now beginning that never ended (`started` already counts it). */
const unfinishedBefore = (event: StoredEvent): number => event.started - event.finished - 1;

/** Whether an earlier attempt of `event` never ended: it is sent only alone in its round. */
export function isSuspect(event: StoredEvent): boolean {
  return unfinishedBefore(event) >= 1;
}

/**
 * Why `event` is poison, or undefined. `started` already counts the attempt now beginning,
 * so `started - finished - 1` attempts before it never ended, and `started - unjudged - 1`
 * before it were refused or crashed. The crash rule is judged only when the event is `alone`
 * in its round (a suspect is never sent with others): of its unfinished attempts, all but the
 * first were made alone.
 */
export function poisonReason(event: StoredEvent, policy: PoisonPolicy, alone = true): string | undefined {
  // Crashes first: they count toward maxAttempts too, and the reason should say what happened.
  const crashes = unfinishedBefore(event) - 1;
  if (alone && crashes >= policy.maxUnfinishedAttempts) return `crashes: ${crashes} relay attempts never finished`;
  const counted = event.started - event.unjudged;
  if (counted > policy.maxAttempts) return `attempts: ${counted - 1} relay attempts failed`;
  return undefined;
}
