/**
 * A canonical hash of any value: equal JSON (whatever the key order) hashes equal, and
 * different values hash differently. For JSON values the canonical text is itself JSON
 * (keys sorted), so it is injective; other values get `#`-tagged forms JSON cannot produce. An
 * object with a `toJSON()` (a `URL`, a class keeping its value in private fields) counts as the
 * value that returns, as JSON writes it: its own fields may not hold its value at all. A boxed
 * primitive counts as its primitive, as JSON writes it. Iterative, so hostile nesting cannot
 * overflow the stack; cycles, BigInt, dates, regular expressions and bytes are encoded instead
 * of throwing. An object whose value cannot be seen at all (a class instance with no own fields
 * and no `toJSON()`: private fields, a `WeakMap`, an `Error`) is refused rather than hashed as
 * `{}`, where any two such values would meet.
 */
// Not an ESM import of node:crypto: its namespace loads Web Crypto (~15 ms of a cold start).
import { nodeCrypto } from '@steadyfn/handler/internal';
import { IdempotencyInputUnhashableError } from './errors.js';

/**
 * A value to write. `json`: it is already a `toJSON()` result, whose own `toJSON` JSON does not
 * call again. `up` and `key`: its parent's step and its key there (none at the root) — its
 * place, for the error that refuses it, kept without allocating more than the step itself.
 */
interface ValueStep {
  value: unknown;
  json?: true;
  up?: ValueStep;
  key?: string | number;
}

type Step = ValueStep | { text: string } | { leave: object };

/**
 * The SHA-256 (base64url, 43 characters) of `value`'s canonical text: the same for equal JSON
 * whatever the key order. What the plugin keys and fingerprints payloads with; use it in a
 * custom `key` function to hash part of the input the same way.
 * @example
 * canonicalHash({ b: 1, a: 2 }) === canonicalHash({ a: 2, b: 1 }); // true
 * @throws IdempotencyInputUnhashableError when `value` holds an object whose value cannot be
 *   seen (see the module comment), naming its place (`auth.0.token`; empty for the root).
 */
export function canonicalHash(value: unknown): string {
  // One-shot hashing of the joined text is several times cheaper than a streaming Hash for
  // the small inputs functions usually get.
  return sha256(canonicalText(value));
}

/** SHA-256, base64url. */
export function sha256(text: string): string {
  return nodeCrypto().hash('sha256', text, 'base64url');
}

/** The canonical text itself (for tests and debugging). @throws IdempotencyInputUnhashableError as `canonicalHash`. */
export function canonicalText(value: unknown): string {
  const fast = plainJsonText(value, 0);
  if (fast !== undefined) return fast;
  const parts: string[] = [];
  writeCanonical(value, (text) => parts.push(text));
  return parts.join('');
}

const FAST_MAX_DEPTH = 32;

/**
 * The same text as `writeCanonical` for shallow, plain JSON values (what functions usually
 * get), without its bookkeeping; undefined for anything else, which takes the general path.
 */
function plainJsonText(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      // For a finite number String() is JSON's text (both print -0 as 0).
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      return undefined;
  }
  if (v === null) return 'null';
  if (depth >= FAST_MAX_DEPTH) return undefined;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const text = item === undefined ? undefined : plainJsonText(item, depth + 1);
      if (text === undefined) return undefined;
      out += i === 0 ? text : `,${text}`;
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const record = v as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of sortedKeys(record)) {
    const item = record[key];
    if (item === undefined) continue;
    const text = plainJsonText(item, depth + 1);
    if (text === undefined) return undefined;
    out += `${first ? '' : ','}${jsonString(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * `JSON.stringify(text)`: quoted as it is when nothing in it needs escaping (no `"`, `\`,
 * control character or surrogate), which most keys and values are — measured about half the
 * cost of calling into `JSON.stringify` for each one.
 */
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** Keys past this many are sorted by `Array.prototype.sort`; fewer, in place without its scratch buffer. */
const INSERTION_SORT_MAX = 24;

/**
 * `Object.keys(record).sort()`: the same order (UTF-16 code units), sorted in place for the few
 * keys a payload object usually has — `sort` allocates a scratch buffer on every call, and this
 * runs for every object of every payload hashed.
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  const n = keys.length;
  if (n > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < n; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function writeCanonical(root: unknown, write: (text: string) => void): void {
  const ancestors = new Set<object>();
  const stack: Step[] = [{ value: root }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    if ('text' in step) {
      write(step.text);
      continue;
    }
    if ('leave' in step) {
      ancestors.delete(step.leave);
      continue;
    }
    const v = step.value;
    switch (typeof v) {
      case 'string':
        // JSON escaping is injective and keeps lone surrogates distinct after UTF-8 encoding.
        write(JSON.stringify(v));
        continue;
      case 'number':
        write(Number.isFinite(v) ? JSON.stringify(v) : `#${String(v)}`);
        continue;
      case 'boolean':
        write(v ? 'true' : 'false');
        continue;
      case 'bigint':
        write(`#${v.toString()}n`);
        continue;
      case 'undefined':
      case 'function':
      case 'symbol':
        write('#u');
        continue;
    }
    if (v === null) {
      write('null');
      continue;
    }
    const obj = v as object;
    if (ancestors.has(obj)) {
      write('#cycle');
      continue;
    }
    if (obj instanceof Date) {
      write(`#d${obj.getTime()}`);
      continue;
    }
    if (obj instanceof RegExp) {
      // `/source/flags`: flags are letters after the last `/`, so the pair is told apart; quoted, so it ends where its text does.
      write(`#r${JSON.stringify(String(obj))}`);
      continue;
    }
    if (ArrayBuffer.isView(obj)) {
      write(`#x${Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64')};`);
      continue;
    }
    if (obj instanceof ArrayBuffer) {
      write(`#x${Buffer.from(obj).toString('base64')};`);
      continue;
    }
    if (!step.json) {
      const json = jsonValueOf(obj);
      if (json !== obj) {
        // What JSON writes for it; the object stays an ancestor while its value is written.
        ancestors.add(obj);
        stack.push({ leave: obj }, { value: json, json: true, up: step.up, key: step.key });
        continue;
      }
    }
    if (obj instanceof Number || obj instanceof String || obj instanceof Boolean || obj instanceof BigInt || obj instanceof Symbol) {
      // As JSON writes a boxed primitive: its primitive value (a boxed BigInt or Symbol as the primitive is here).
      stack.push({ value: obj.valueOf(), json: true, up: step.up, key: step.key });
      continue;
    }
    ancestors.add(obj);
    let open: string;
    let close: string;
    const children: Step[] = [];
    if (Array.isArray(obj)) {
      open = '[';
      close = ']';
      // JSON writes holes and non-values in arrays as null.
      for (let i = 0; i < obj.length; i++) {
        const item: unknown = obj[i];
        if (i > 0) children.push({ text: ',' });
        children.push(item === undefined || typeof item === 'function' || typeof item === 'symbol' ? { text: 'null' } : { value: item, up: step, key: i });
      }
    } else if (obj instanceof Map) {
      open = '#M[';
      close = ']';
      let first = true;
      let i = 0;
      for (const [k, item] of obj) {
        if (!first) children.push({ text: ',' });
        first = false;
        const key = typeof k === 'string' || typeof k === 'number' ? k : i;
        children.push({ value: k, up: step, key }, { text: '=>' }, { value: item, up: step, key });
        i++;
      }
    } else if (obj instanceof Set) {
      open = '#S[';
      close = ']';
      let first = true;
      let i = 0;
      for (const item of obj) {
        if (!first) children.push({ text: ',' });
        first = false;
        children.push({ value: item, up: step, key: i++ });
      }
    } else {
      open = '{';
      close = '}';
      const record = obj as Record<string, unknown>;
      const keys = sortedKeys(record);
      if (keys.length === 0) refuseOpaque(obj, step);
      let first = true;
      for (const key of keys) {
        const item = record[key];
        // As JSON does: properties without a JSON value are left out.
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        children.push({ text: `${first ? '' : ','}${JSON.stringify(key)}:` }, { value: item, up: step, key });
        first = false;
      }
    }
    write(open);
    stack.push({ leave: obj }, { text: close });
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}

/**
 * Throws for an object with no own fields, no `toJSON()` and a class of its own: whatever it
 * holds (private fields, internal slots) JSON writes as `{}`, so it cannot be told from another.
 * A plain object — `{}`, a null-prototype object, a plain object from another realm (whose
 * prototype is a root prototype) — is `{}` indeed, and passes.
 */
function refuseOpaque(obj: object, at: ValueStep): void {
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null) return;
  throw new IdempotencyInputUnhashableError(pathOf(at), typeNameOf(proto));
}

/** The dotted path of a step's value (`auth.0.token`), empty for the root. */
function pathOf(step: ValueStep): string {
  const keys: Array<string | number> = [];
  for (let s: ValueStep | undefined = step; s?.key !== undefined; s = s.up) keys.push(s.key);
  return keys.reverse().join('.');
}

/** The name of the class whose prototype `proto` is (code, not data), or `object`. */
function typeNameOf(proto: object): string {
  try {
    const name: unknown = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && /^[\w$]{1,64}$/.test(name) ? name : 'object';
  } catch {
    return 'object';
  }
}

/**
 * `obj.toJSON('')` when it has one (what `JSON.stringify` writes in its place), else `obj`
 * itself; `obj` too when `toJSON` throws, so hashing never fails on it.
 */
function jsonValueOf(obj: object): unknown {
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== 'function') return obj;
  try {
    return (toJSON as (key: string) => unknown).call(obj, '');
  } catch {
    return obj;
  }
}
