/**
 * HTTP request headers as every provider adapter normalises them: names lower-cased, repeated
 * values kept as lists or joined as each header's rules say, and the client a proxy forwarded.
 */
import { getOwn, setOwn } from './internal/record.js';

/** A header value as text; '' for a value that has none (an object whose toString is not a function). */
function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return '';
  }
}

/**
 * Every value of every header, names lower-cased, in arrival order. Arrays (multi-value
 * headers) keep one entry per value.
 */
export function headerLists(input: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (typeof input !== 'object' || input === null) return out;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    const key = name.toLowerCase();
    const values = Array.isArray(value) ? value.filter((v) => v !== undefined && v !== null).map(headerText) : [headerText(value)];
    const previous = getOwn(out, key);
    if (previous) previous.push(...values);
    else setOwn(out, key, values);
  }
  return out;
}

/**
 * The client's address from a proxy's `X-Forwarded-For` (joined headers, lower-case names):
 * its first hop — the client, then each proxy — trimmed; undefined when the header is absent
 * or its first hop empty. For providers that report the client only there (an ALB, the
 * OpenWhisk edge nginx).
 */
export function forwardedClient(headers: Readonly<Record<string, string>>): string | undefined {
  const first = Object.hasOwn(headers, 'x-forwarded-for') ? headers['x-forwarded-for']!.split(',')[0]!.trim() : '';
  return first === '' ? undefined : first;
}

/**
 * One value per header from all of its values, joined as each header's rules say: `cookie`
 * with `; ` (RFC 6265 §5.4), `set-cookie` never (a comma is part of its syntax: the first
 * value is kept, every value is in `multiHeaders`), any other with `, ` (RFC 9110 §5.3).
 */
export function joinHeaderLists(lists: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(lists)) {
    if (values.length === 0) continue;
    setOwn(out, key, key === 'set-cookie' ? values[0]! : values.join(key === 'cookie' ? '; ' : ', '));
  }
  return out;
}

/** Lower-cases header names and joins repeated values as HTTP allows (see `joinHeaderLists`). */
export function normaliseHeaders(input: unknown): Record<string, string> {
  return joinHeaderLists(headerLists(input));
}
