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
  /**
   * The aggregates with events pending, each `watchdogKey(where, aggregate)` (the JSON text of
   * `[where, "<aggregateType>/<aggregateId>"]`, at most `MAX_WATCHDOG_KEY_LENGTH` characters);
   * empty or absent: the whole outbox. A bare aggregate id is refused by the consumer
   * (`relayWatchdog`: `OUTBOX_RELAY_TARGET_INVALID`).
   */
  keys?: string[];
}

/** Keys in one watchdog message; more means "flush the whole outbox". */
export const MAX_KEYS = 100;

/** Longest key of a watchdog message, in characters (`arm` refuses a longer one: `CONFIG_INVALID`). */
export const MAX_WATCHDOG_KEY_LENGTH = 1024;

/**
 * The watchdog key of one aggregate: what `keys` of `outboxWatchdog().arm()` holds and the
 * relay's consumer (`relayWatchdog`) reads — the JSON text of `[where, aggregate]`.
 *
 * @param where The aggregate's partition (Redis: its state keys' hash tag, `o-42` for
 *   `order:{o-42}`; `default` for keys without one) or collection (the embedded outbox: the
 *   collection's name; the transaction-mode store: `outbox`).
 * @param aggregate `<aggregateType>/<aggregateId>` (`aggregateKey(type, id)`).
 * @returns The key; mind `MAX_WATCHDOG_KEY_LENGTH` (arm without keys, the whole outbox, past it).
 * @example
 * await watchdog.arm({ outbox: 'orders', keys: [watchdogKey('o-42', 'order/o-42')] }, { signal: ctx.signal });
 */
export function watchdogKey(where: string, aggregate: string): string {
  return JSON.stringify([where, aggregate]);
}

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
