/**
 * Poison detection by attempts begun against attempts that ended (after
 * pg-transactional-outbox): an event whose relay keeps crashing the process, timing out or
 * being refused is found even though no error was ever recorded for it.
 */
import type { StoredEvent } from './types.js';

/** When an event counts as poison. */
export interface PoisonPolicy {
  /** Most relay attempts begun for one event. @default 10 */
  maxAttempts: number;
  /** Most attempts begun that never ended (crashes, kills, timeouts). @default 3 */
  maxUnfinishedAttempts: number;
}

export const DEFAULT_POISON: PoisonPolicy = { maxAttempts: 10, maxUnfinishedAttempts: 3 };

/**
 * Why `event` is poison, or undefined. `started` already counts the attempt now beginning,
 * so `started - finished - 1` attempts before it never ended.
 */
export function poisonReason(event: StoredEvent, policy: PoisonPolicy): string | undefined {
  if (event.started > policy.maxAttempts) return `attempts: ${event.started - 1} relay attempts failed`;
  const unfinished = event.started - event.finished - 1;
  if (unfinished >= policy.maxUnfinishedAttempts) return `crashes: ${unfinished} relay attempts never finished`;
  return undefined;
}
