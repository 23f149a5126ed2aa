/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * grammars, checked as the spec's processing model says, and fresh trace contexts. Pure and
 * small: every ctx carries a `traceparent`, so this is part of every entry.
 */
import { nodeCrypto } from '../internal/crypto.js';

/** A trace context as carried between services: `traceparent` (version 00, lower case) and the vendors' `tracestate`. */
export interface TraceContext {
  traceparent: string;
  /** Vendor-specific trace data, passed on unchanged; undefined when none came (or it was invalid). */
  tracestate: string | undefined;
}

/** The fields of a valid `traceparent`. */
export interface Traceparent {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero: the caller's span. */
  parentId: string;
  /** The 8 trace flags; bit 0 (`0x01`) is `sampled`. */
  flags: number;
  /** The header in version 00 form: `00-<traceId>-<parentId>-<flags>`. */
  text: string;
}

const HEX = /^[0-9a-f]+$/;
const ALL_ZERO = /^0+$/;

/**
 * Reads a `traceparent` header value, or undefined when it is not one: `version "-" trace-id
 * "-" parent-id "-" trace-flags`, lower-case hex only, version `ff` refused, trace and parent
 * ids of all zeros refused; version 00 has exactly these four fields, a later version may add
 * fields after a `-` (they are dropped: the result is version 00). Spaces and tabs around the
 * value are ignored (RFC 9110 OWS).
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId; // '4bf92f3577b34da6a3ce929d0e0e4736'
 * parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'); // undefined
 */
export function parseTraceparent(value: unknown): Traceparent | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const text = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (text.length < 55) return undefined;
  const version = text.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  if (version === '00' ? text.length !== 55 : text.length > 55 && text[55] !== '-') return undefined;
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return undefined;
  const traceId = text.slice(3, 35);
  const parentId = text.slice(36, 52);
  const flagText = text.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flagText)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return undefined;
  const flags = Number.parseInt(flagText, 16);
  return { traceId, parentId, flags, text: version === '00' ? text : formatTraceparent(traceId, parentId, flags) };
}

/** `00-<traceId>-<parentId>-<flags as 2 hex digits>`; the caller gives valid ids. */
export function formatTraceparent(traceId: string, parentId: string, flags: number): string {
  return `00-${traceId}-${parentId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * A new trace: random trace and parent ids, flags `01` (sampled, so services downstream that
 * sample by their parent record it; nothing here records a span by itself).
 */
export function newTraceparent(): string {
  const hex = nodeCrypto().randomBytes(24).toString('hex');
  const traceId = hex.slice(0, 32);
  const parentId = hex.slice(32);
  // 2^-64 odds; the spec forbids all-zero ids, so draw again rather than send one.
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return newTraceparent();
  return formatTraceparent(traceId, parentId, 1);
}

/** A new span id (16 hex digits, not all zero) under an existing trace. */
export function newParentId(): string {
  const hex = nodeCrypto().randomBytes(8).toString('hex');
  return ALL_ZERO.test(hex) ? newParentId() : hex;
}

// tracestate: list-member = key "=" value; key = simple-key / tenant "@" system.
const SIMPLE_KEY = '[a-z][a-z0-9_\\-*/]{0,255}';
const TENANT_KEY = '[a-z0-9][a-z0-9_\\-*/]{0,240}@[a-z][a-z0-9_\\-*/]{0,13}';
const VALUE = '[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]';
const MEMBER = new RegExp(`^(${SIMPLE_KEY}|${TENANT_KEY})=(${VALUE})$`);
/** The spec's limit on list members. */
const MAX_MEMBERS = 32;

/**
 * Reads a `tracestate` value (several header lines joined with `,`), or undefined when it is
 * absent, empty or invalid — the spec has a receiver discard an invalid `tracestate`, never
 * the `traceparent`. Members are kept in order, without the optional spaces around them.
 * A key that appears twice, or more than 32 members, makes it invalid.
 *
 * @example
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE'); // 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
 */
export function parseTracestate(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 8192) return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    // Empty members are allowed and ignored.
    if (member === '') continue;
    const match = MEMBER.exec(member);
    if (!match || keys.has(match[1]!)) return undefined;
    keys.add(match[1]!);
    members.push(member);
  }
  if (members.length === 0 || members.length > MAX_MEMBERS) return undefined;
  return members.join(',');
}
