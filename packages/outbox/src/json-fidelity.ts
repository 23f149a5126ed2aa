/**
 * What `JSON.stringify` would not carry as it is, found before an envelope is written: the
 * envelope is JSON text, so such a value would reach the relay, the inbox and
 * `@steadyfn/backup` changed (a `Date` as an ISO string, an `ObjectId` as hex) or not at all —
 * silently. Only type names are reported, never values (they may hold personal data).
 */

/** The kinds of primitive `JSON.stringify` leaves out as a property value. */
function droppedKind(v: unknown): string | undefined {
  return v === undefined ? 'undefined' : typeof v === 'function' ? 'a function' : typeof v === 'symbol' ? 'a symbol' : undefined;
}

/**
 * What `JSON.stringify` leaves out as a property value (so `payload` would be missing): a
 * function, a symbol, or an object whose `toJSON()` gives `undefined`, a function or a symbol.
 * Plain data is not stringified here; only a `toJSON` is called (once more than the write does).
 *
 * @returns what was found (e.g. `a function`), or undefined when JSON keeps the value.
 */
export function droppedByJson(value: unknown): string | undefined {
  const own = droppedKind(value);
  if (own !== undefined) return own;
  if (typeof value !== 'object' || value === null) return undefined;
  let converted: string | undefined;
  try {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON !== 'function') return undefined;
    converted = droppedKind((toJSON as (key: string) => unknown).call(value, 'payload'));
  } catch {
    return undefined; // the write's JSON.stringify throws it again: "cannot be serialised as JSON"
  }
  return converted === undefined ? undefined : `an object whose toJSON() gives ${converted}`;
}

/** Where a value JSON would change sits (a dotted path, as in `FieldIssue.field`) and its type name. */
export interface JsonChangeFound {
  path: string;
  /** The type name with its article, e.g. `a BSON ObjectId`, `a Date`, `an instance of Order`. */
  found: string;
}

/** Longest path reported; a longer one is cut (keys are the caller's field names, of any length). */
const MAX_PATH = 256;
/** A constructor or `_bsontype` name safe to repeat in a message. */
const TYPE_NAME = /^[A-Za-z_$][\w$]{0,63}$/;

// 'a' before U: Uint8Array, URL.
const withArticle = (name: string): string => `${/^[AEIO]/i.test(name) ? 'an' : 'a'} ${name}`;

function isPlainPrototype(proto: object | null): boolean {
  if (proto === null || proto === Object.prototype) return true;
  // Object.prototype of another realm (a vm context): itself without a prototype.
  return Object.getPrototypeOf(proto) === null && (proto as { constructor?: { name?: unknown } }).constructor?.name === 'Object';
}

/** Why JSON would not carry `value` as it is (its type name), or undefined for plain JSON. */
function notPlainJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // a property holding undefined passes, as in drafts and options
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : 'a non-finite number (JSON writes null)';
    case 'bigint':
      return 'a BigInt';
    case 'function':
    case 'symbol':
      return `a ${typeof value}`;
  }
  if (value === null) return undefined;
  const bson = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bson === 'string') return `a BSON ${TYPE_NAME.test(bson) ? bson : 'value'}`;
  const toJSON = typeof (value as { toJSON?: unknown }).toJSON === 'function';
  if (Array.isArray(value)) return toJSON ? 'an array with toJSON()' : undefined;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (isPlainPrototype(proto)) return toJSON ? 'an object with toJSON()' : undefined;
  const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name !== 'string' || !TYPE_NAME.test(name)) return 'an object with a non-plain prototype';
  // Date, Map, Set, Buffer, typed arrays, RegExp: the names everyone knows; others are class instances.
  return KNOWN.has(name) || /Array$/.test(name) ? withArticle(name) : `an instance of ${name}`;
}

const KNOWN: ReadonlySet<string> = new Set(['Date', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Buffer', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'RegExp', 'Error', 'Promise', 'URL', 'String', 'Number', 'Boolean']);

/** One value to visit; the path is rebuilt from `up` only when something is found. */
interface Step {
  value: unknown;
  key: string;
  up: Step | undefined;
}

function pathOf(step: Step): string {
  const keys: string[] = [];
  for (let s: Step | undefined = step; s !== undefined; s = s.up) keys.push(s.key);
  const path = keys.reverse().join('.');
  return path.length <= MAX_PATH ? path : `${path.slice(0, MAX_PATH - 1)}…`;
}

/**
 * The first value under `root` (depth first, in key order) that `JSON.stringify` would change
 * or leave out: anything with a `_bsontype` (ObjectId, Long, Decimal128, Binary, Timestamp…),
 * a `Date` or any other object with `toJSON`, a Map, Set, typed array or other object whose
 * prototype is not `Object.prototype`/`null`, a BigInt, a function, a symbol, NaN or ±Infinity.
 * Extended JSON (`{ "$oid": … }`, `{ "$date": … }`) is plain JSON and passes.
 *
 * One walk, iterative (no stack overflow on deep nesting), each object visited once (shared or
 * circular references end it; `JSON.stringify` then refuses a cycle on the write); nothing is
 * stringified and no `toJSON` is called. A getter that throws ends the walk with undefined: the
 * write's `JSON.stringify` throws it again.
 *
 * @param rootPath the path `root` is reported under, e.g. `change.after`.
 */
export function changedByJson(root: unknown, rootPath: string): JsonChangeFound | undefined {
  const seen = new Set<object>();
  const stack: Step[] = [{ value: root, key: rootPath, up: undefined }];
  try {
    while (stack.length > 0) {
      const step = stack.pop()!;
      const found = notPlainJson(step.value);
      if (found !== undefined) return { path: pathOf(step), found };
      const value = step.value;
      if (typeof value !== 'object' || value === null || seen.has(value)) continue;
      seen.add(value);
      const keys = Object.keys(value); // what JSON.stringify reads: own enumerable string keys
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (value as Record<string, unknown>)[keys[i]!], key: keys[i]!, up: step });
    }
  } catch {
    return undefined;
  }
  return undefined;
}
