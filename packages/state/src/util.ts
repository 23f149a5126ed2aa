import type { ParseError } from 'jsonc-parser';
import { SourceError } from './errors.js';
import type { ClientInput } from './types.js';

/**
 * A client given as an instance or as a function returning one (a connections handle). What a
 * function returns goes through `check` (the factory's own client check, run up front on an
 * instance), so a wrong kind of client is the same terminal `ConfigurationError` either way
 * rather than a retryable `TypeError` at its first call. The function is given `{ signal }`, the
 * load's signal when there is one: a handle's `get` watches it, and checks the client before its
 * next use when the load gave up on a command that is still unanswered (a dead socket).
 */
export async function resolveClient<C>(input: ClientInput<C>, check?: (client: unknown) => void, signal?: AbortSignal): Promise<C> {
  if (typeof input !== 'function') return input;
  const client = await (input as (options: { signal?: AbortSignal }) => C | Promise<C>)(signal ? { signal } : {});
  check?.(client);
  return client;
}

/**
 * The server will not run a script for this client: an ACL without `@scripting` (`NOPERM`), or
 * no EVAL at all (a managed Redis that leaves it out). Callers then read without the script.
 */
export function scriptRefused(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /^NOPERM\b/.test(message) || /^ERR unknown command .?eval/i.test(message);
}

/**
 * Whether `error`, or one of its first five causes, is a Redis `WRONGTYPE` reply: a key holding
 * another type than the command reads. Told by the reply's words, whatever the class: ioredis'
 * `ReplyError` on a `Redis` or a `Cluster`, the error of a script that read the key, or an older
 * Redis (< 7) wrapping it in `ERR Error running script …: WRONGTYPE …`.
 */
export function isWrongType(error: unknown): boolean {
  let at = error;
  for (let depth = 0; depth < 6 && at instanceof Error; depth++) {
    if (/\bWRONGTYPE\b/.test(at.message)) return true;
    at = at.cause;
  }
  return false;
}

/**
 * `call`'s result, or, when Redis answers `WRONGTYPE`, a `SourceError` naming `what` (`the key
 * app:config`) and the type `expected` there (`a string`) instead of the bare driver error.
 * @throws SourceError as above; any other failure as it is.
 */
export async function expectingType<T>(call: Promise<T>, what: string, expected: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (!isWrongType(error)) throw error;
    throw new SourceError(`${what} holds another type of value (WRONGTYPE); expected ${expected}`, '', expected);
  }
}

// A byte order mark is kept as a character (ignoreBOM), as Buffer#toString keeps it: parseJson and parseNdjson skip it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as UTF-8 text, refusing bytes that are not UTF-8 rather than reading U+FFFD in their
 * place (a Latin-1 file, damaged bytes) — the value would otherwise differ silently from what was
 * written. The offset is where decoding first fails, from 0; the bytes are never quoted.
 * @throws SourceError `<what> is not valid UTF-8 (at byte N)`, `expected` `UTF-8 text`.
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    // The longest prefix that decodes (a sequence cut at its end is not yet an error, with
    // stream): the first failure is at its end. Only on this failure path.
    let low = 0;
    let high = bytes.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        low = mid;
      } catch {
        high = mid - 1;
      }
    }
    throw new SourceError(`${what} is not valid UTF-8 (at byte ${low})`, '', 'UTF-8 text');
  }
}

/**
 * A store's reply as text: a string as it is (a client that decoded the reply itself), bytes
 * through `decodeUtf8` — the Redis sources read bytes where the client can, so that bytes that
 * are not UTF-8 fail the load instead of reading as U+FFFD.
 * @throws SourceError `<what> is not valid UTF-8 (at byte N)`, `expected` `UTF-8 text`.
 */
export function textOf(reply: string | Uint8Array, what: string): string {
  return typeof reply === 'string' ? reply : decodeUtf8(reply, what);
}

/** The error a source rejects with when its signal aborted: the signal's own reason. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new SourceError('aborted');
}

// Objects deepFreeze froze all the way down. Only these are skipped: an object that is merely
// frozen (Object.freeze of a loader's result) may still hold writable objects.
const frozenDeep = new WeakSet<object>();

/**
 * Freezes plain objects and arrays all the way down. Class instances (Date, ObjectId, Map,
 * Buffer) are left alone: freezing them can break their own methods. An object this function
 * already froze all the way down is not walked again (an unchanged source kept from the last
 * state); one frozen elsewhere, at its top only, is.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const stack: object[] = [value];
  // Iterative, so a deep state cannot overflow the call stack. Only objects are pushed: a
  // state is mostly strings and numbers, and each push and pop of one is work for nothing.
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (frozenDeep.has(item)) continue;
    if (!Array.isArray(item)) {
      const proto = Object.getPrototypeOf(item);
      if (proto !== Object.prototype && proto !== null) continue;
    }
    Object.freeze(item);
    // Marked as it is frozen: its children are on the stack, and a cycle is walked once.
    frozenDeep.add(item);
    for (const child of Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return value;
}

/** Equality for versions: primitives, Dates, BSON values (ObjectId, Long, Decimal128), and small records of those. */
export function sameVersion(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // NaN never equals itself; a version of NaN is not a version.
    return false;
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  const equals = (a as { equals?: unknown }).equals;
  if (typeof equals === 'function') {
    try {
      return (equals as (other: unknown) => boolean).call(a, b) === true;
    } catch {
      return false;
    }
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameVersion(item, b[i]));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameVersion((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/**
 * The text without a leading UTF-8 byte order mark: editors and export tools on Windows write
 * one, it is not part of the text, and RFC 8259 §8.1 lets a parser ignore it (JSON.parse does not).
 */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The text of a JSON failure V8 raised without a position, and the failure's words without it,
 * until `withJsonPosition` finds the position. Kept beside the error, never on it, so the text
 * cannot reach a log.
 */
const unplaced = new WeakMap<SourceError, { text: string; message: string }>();

/**
 * `JSON.parse(text)`, failing with `<message> (at character N)`: the offset in `text` of the
 * first wrong character, from 0 — V8's own when its message names one, else found later by
 * `withJsonPosition` (the error is thrown as `<message>` until then). Never echoes the text
 * (V8's message quotes it). The one place both JSON and NDJSON failures are placed.
 * @throws SourceError as above.
 */
function parsePlaced(text: string, message: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const named = /position (\d+)/.exec(error instanceof Error ? error.message : '');
    if (named) throw new SourceError(`${message} (at character ${named[1]})`);
    const thrown = new SourceError(message);
    unplaced.set(thrown, { text, message });
    throw thrown;
  }
}

/**
 * JSON.parse with an error that says where (the offset of the first wrong character, from 0,
 * after a byte order mark), never echoing the text (V8's message quotes it). V8 names the
 * position of some failures only; for the others (an unexpected token) the error is thrown
 * without one and `withJsonPosition` adds it on the asynchronous failure path.
 * @throws SourceError `<what> is not valid JSON (at character N)`.
 */
export function parseJson(text: string, what: string): unknown {
  return parsePlaced(withoutBom(text), `${what} is not valid JSON`);
}

/** `error` (a failure of `parseJson` or `decodeUtf8`) placed at `path` inside the source's value, keeping its `expected` and what `withJsonPosition` needs. */
export function jsonErrorAt(error: unknown, path: string): unknown {
  if (!(error instanceof SourceError)) return error;
  const placed = new SourceError(error.message, path, error.expected);
  const pending = unplaced.get(error);
  if (pending) unplaced.set(placed, pending);
  return placed;
}

/**
 * `error` with the offset of the first wrong character when it is a `parseJson` or
 * `parseNdjson` failure V8 gave no position for; anything else is returned as it is. The
 * position comes from jsonc-parser in strict JSON mode (no comments, no trailing commas), loaded
 * only here so it costs nothing at start-up.
 */
export async function withJsonPosition(error: unknown): Promise<unknown> {
  const pending = error instanceof SourceError ? unplaced.get(error) : undefined;
  if (!pending) return error;
  const { parse } = await import('jsonc-parser');
  const errors: ParseError[] = [];
  parse(pending.text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const at = errors[0]?.offset;
  return at === undefined ? error : new SourceError(`${pending.message} (at character ${at})`, (error as SourceError).path);
}

/**
 * One JSON value per line; blank lines (and a final newline, and CRLF endings) are skipped.
 * @throws SourceError `<what>: line L is not valid JSON (at character N)`: L from 1, N the offset
 *   within the line from 0 (after a byte order mark on line 1), placed as by `parseJson`.
 */
export function parseNdjson(text: string, what: string): unknown[] {
  const out: unknown[] = [];
  const lines = withoutBom(text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line.trim() === '') continue;
    out.push(parsePlaced(line, `${what}: line ${i + 1} is not valid JSON`));
  }
  return out;
}

/**
 * A loaded value with its version, or without one when the version is not there (`null` or
 * `undefined`: a version key never written, a hash or document without the field, no version
 * document). A missing version is no version: read again as "missing", it would prove nothing
 * and keep the first value for ever, so such a source is loaded in full each time it is stale.
 */
export function versioned<T>(value: T, version: unknown): { value: T; version?: unknown } {
  return version === null || version === undefined ? { value } : { value, version };
}

/** Reads a dotted path (`meta.version`) from a document. */
export function getPath(doc: unknown, path: string): unknown {
  let at: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * A copy of a state for a reducer to change: plain objects, arrays, Maps, Sets and Dates are
 * copied (a reducer may change them in place, and the original is being served); every other
 * class instance — BSON values (ObjectId, Long, Decimal128), your own classes — is kept as it
 * is. `structuredClone` keeps no class: an ObjectId came back as `{ i0, i1, i2, i3 }`.
 * Shared and cyclic references stay shared and cyclic in the copy.
 */
export function copyForUpdate<T>(value: T): T {
  const copies = new Map<object, unknown>();
  const copy = (item: unknown): unknown => {
    if (typeof item !== 'object' || item === null) return item;
    const done = copies.get(item);
    if (done !== undefined) return done;
    if (Array.isArray(item)) {
      const out: unknown[] = [];
      copies.set(item, out);
      for (const element of item) out.push(copy(element));
      return out;
    }
    if (item instanceof Map) {
      const out = new Map();
      copies.set(item, out);
      for (const [k, v] of item) out.set(k, copy(v));
      return out;
    }
    if (item instanceof Set) {
      const out = new Set();
      copies.set(item, out);
      for (const v of item) out.add(copy(v));
      return out;
    }
    if (item instanceof Date) return new Date(item.getTime());
    const proto = Object.getPrototypeOf(item);
    if (proto !== Object.prototype && proto !== null) return item;
    const out: Record<string, unknown> = Object.create(proto);
    copies.set(item, out);
    for (const key of Object.keys(item)) {
      Object.defineProperty(out, key, { value: copy((item as Record<string, unknown>)[key]), writable: true, enumerable: true, configurable: true });
    }
    return out;
  };
  return copy(value) as T;
}
