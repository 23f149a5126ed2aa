/**
 * What `transitions({ alsoSet })` may set with the state, checked when a transition is called
 * (before its event is staged or anything is written): a terminal `CONFIG_INVALID` naming the
 * option, not a transition that lands in another state than `to` (an `alsoSet` field overriding
 * the state field) nor a Redis write refused only when the function returns
 * (`OUTBOX_EVENT_INVALID`, field `commands.0.5`).
 */
import { ConfigurationError, invalidOption, isRecord } from '@steadyfn/handler/internal';
import { OUTBOX_FIELDS, isOutboxField } from './stores/mongo-shapes.js';

const OWNER = 'transitions';

/**
 * `alsoSet`'s fields of one transition, checked: an object whose keys leave out the state
 * `field` — and, in MongoDB modes (embedded, transaction), keys naming one of the outbox's
 * fields (`_outbox`, `_outboxSeq`, … exactly, or a path inside one; `_outboxedAt` is a plain
 * field), an operator (`$…`) or a path inside the state field (`<field>.…`).
 *
 * @throws ConfigurationError `CONFIG_INVALID`, field `alsoSet`, naming the key (never a value).
 */
export function alsoSetFields(result: unknown, field: string, to: string, mongo: boolean): Record<string, unknown> {
  if (!isRecord(result)) invalidOption(OWNER, 'alsoSet', 'a function returning an object of the fields to set with the state', result);
  for (const key of Object.keys(result)) {
    if (key === field) invalidOption(OWNER, 'alsoSet', `a function whose fields leave out "${field}", the state field (the transition sets it to "${to}")`, key);
    if (mongo && (isOutboxField(key) || key.startsWith('$') || key.startsWith(`${field}.`))) {
      invalidOption(OWNER, 'alsoSet', `a function whose fields are plain document fields: none of the outbox's (${OUTBOX_FIELDS.join(', ')}, or a path inside one), none starting with $ (an operator) or "${field}." (inside the state field)`, key);
    }
  }
  return result;
}

/**
 * A value of `alsoSet` as a Redis hash field: strings and finite numbers as they are, a valid
 * `Date` as its ISO string (as the envelope writes one; `JSON.stringify` would keep its quotes,
 * which `new Date()` cannot read back), booleans as `true`/`false`, anything else as JSON text.
 *
 * @throws ConfigurationError `CONFIG_INVALID`, field `alsoSet.<key>`, for a value the hash cannot
 *   hold: `undefined`, `NaN` or ±Infinity, an invalid `Date`, a function, a symbol, a bigint (or
 *   an object holding one) — named by its kind, never its content.
 */
export function hashValue(key: string, value: unknown): string | number {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  if (typeof value === 'boolean') return String(value);
  let json: string | undefined;
  try {
    json = typeof value === 'number' || value instanceof Date ? undefined : JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json !== undefined) return json;
  const kind = typeof value === 'number' ? String(value) : value instanceof Date ? 'an invalid Date' : typeof value === 'object' ? 'an object JSON cannot hold (a bigint inside)' : value === undefined ? 'undefined' : `a ${typeof value}`;
  const expected = 'a string, a finite number, a boolean, a valid Date or a JSON value (a Redis hash field holds text)';
  throw new ConfigurationError(`${OWNER}(): option "alsoSet" gave field ${JSON.stringify(key)} ${kind}, which a Redis hash field cannot hold; it must be ${expected}`, { field: `alsoSet.${key}`, expected });
}
