/**
 * The watchdog message (src/sqs/watchdog.ts sends it): its marking attribute, its target and
 * how the relay's consumer reads it. No SQS SDK here: the root entry (the relay's
 * `relayWatchdog`, `parseWatchdogMessage`) reads messages without `@aws-sdk/client-sqs`.
 */
import { isRecord } from '@steadyfn/handler/internal';

/** Message attribute marking a watchdog message; its value is the format version. */
export const WATCHDOG_ATTRIBUTE = 'steadyfn.outboxWatchdog';

/** What a watchdog message asks the relay to flush. */
export interface WatchdogTarget {
  /** Name of the outbox (which store and collection/stream the relay reads). */
  outbox: string;
  /** Aggregate ids (or document keys) with events pending; empty or absent: the whole outbox. */
  keys?: string[];
}

/** Keys in one watchdog message; more means "flush the whole outbox". */
export const MAX_KEYS = 100;

/**
 * Reads a watchdog message's body (the JSON text, or the object `@steadyfn/handler` parsed);
 * `undefined` when it is not one. Keys are absent when the whole outbox should be flushed.
 */
export function parseWatchdogMessage(body: unknown): WatchdogTarget | undefined {
  const message = readWatchdogMessage(body);
  if (!message) return undefined;
  const keys = Array.isArray(message.keys) ? message.keys.filter((k): k is string => typeof k === 'string') : undefined;
  return keys !== undefined && keys.length > 0 ? { outbox: message.outbox, keys } : { outbox: message.outbox };
}

/** Most keys a watchdog message carries (`arm` sends none, "the whole outbox", beyond it). */
export const MAX_WATCHDOG_KEYS = MAX_KEYS;

/**
 * A watchdog message's outbox and its `keys` as they came (not checked: the relay's consumer
 * checks them against its outbox, `relay/targets.ts`); undefined when `body` is not a watchdog message.
 */
export function readWatchdogMessage(body: unknown): { outbox: string; keys: unknown } | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(value) || value.watchdog !== 1 || typeof value.outbox !== 'string' || value.outbox === '') return undefined;
  return { outbox: value.outbox, keys: value.keys };
}
