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
 * The client's address as the proxy in front of the function saw it: the LAST hop of
 * `X-Forwarded-For` (joined headers, lower-case names), trimmed, without a port; undefined when
 * the header is absent or its last hop empty. Every hop before it is whatever the client (and
 * any proxy on the way) wrote — a client sending `X-Forwarded-For: 10.0.0.1` would otherwise
 * choose its own address. The last hop is the client only when the proxy in front appends the
 * address it saw: an ALB in its default `append` mode (`routing.http.xff_header_processing.mode`,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html);
 * with `preserve` the header is passed on as the client sent it, and with `remove` there is none.
 * A port the proxy added is dropped: `203.0.113.7:41234` (an ALB with
 * `routing.http.xff_client_port.enabled`, Azure's front ends) → `203.0.113.7`,
 * `[2001:db8::1]:41234` → `2001:db8::1`; a bare IPv6 address is kept whole.
 */
export function forwardedClient(headers: Readonly<Record<string, string>>): string | undefined {
  if (!Object.hasOwn(headers, 'x-forwarded-for')) return undefined;
  const hops = headers['x-forwarded-for']!.split(',');
  const last = hops[hops.length - 1]!.trim();
  return last === '' ? undefined : withoutPort(last);
}

/** An address without the port a proxy may have added (`a.b.c.d:port`, `[v6]:port`, `[v6]`). */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4 ? v4[1]! : hop;
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
