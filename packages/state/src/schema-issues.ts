/**
 * A schema's issues as a round's failures carry them: zod's words where they name the schema,
 * never words from the store. A record's keys and a strict object's extra keys are the store's
 * (`sk_live_…` as a key of a `z.record()`), so they never reach a field or a message: a path
 * segment the schema does not name itself becomes `*`, and issues that would list keys count them.
 */
import { toFieldIssues, type ZodLikeIssue } from '@steadyfn/handler/internal';
import type { ZodType } from 'zod';
import type { StateIssue } from './errors.js';

/** A zod 4 schema's definition, read through its public introspection (`schema._zod.def`). */
interface Def {
  type?: string;
  shape?: Record<string, unknown>;
  keyType?: unknown;
  valueType?: unknown;
  element?: unknown;
  items?: unknown[];
  rest?: unknown;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  getter?: () => unknown;
  options?: unknown[];
  left?: unknown;
  right?: unknown;
  entries?: Record<string, unknown>;
  values?: unknown[];
}

function defOf(schema: unknown): Def | undefined {
  const zod = (schema as { _zod?: { def?: Def } } | null | undefined)?._zod;
  return zod && typeof zod.def === 'object' ? zod.def : undefined;
}

/** Every schema a value at this point may be checked by: wrappers (optional, default, pipe, lazy, …) unwrapped, union and intersection members listed. */
function expand(schemas: unknown[]): Def[] {
  const out: Def[] = [];
  const seen = new Set<unknown>();
  const queue = [...schemas];
  while (queue.length > 0 && seen.size < 200) {
    const schema = queue.shift();
    if (seen.has(schema)) continue;
    seen.add(schema);
    const def = defOf(schema);
    if (!def) continue;
    out.push(def);
    if (def.innerType !== undefined) queue.push(def.innerType);
    if (def.type === 'pipe') queue.push(def.in, def.out);
    if (def.type === 'lazy' && typeof def.getter === 'function') queue.push(def.getter());
    if (Array.isArray(def.options)) queue.push(...def.options);
    if (def.type === 'intersection') queue.push(def.left, def.right);
  }
  return out;
}

/** Whether a record's key schema names `key` itself (an enum or literal key), so the key is the schema's word. */
function namedKey(keyType: unknown, key: string): boolean {
  return expand([keyType]).some((def) => {
    if (def.type === 'enum' && def.entries) return Object.values(def.entries).includes(key);
    if (def.type === 'literal' && Array.isArray(def.values)) return def.values.some((v) => String(v) === key);
    return false;
  });
}

/**
 * The issue's path with every segment the schema does not name itself replaced by `*`: a key
 * of a record (unless its key schema lists it), an object's key its shape does not name (a
 * catchall's), any key under a map or a schema this walk does not know. Object keys of the
 * shape and array indexes are kept. `roots` (the source names, the config's words) are kept at
 * the top.
 */
export function maskedPath(schema: ZodType, path: ReadonlyArray<PropertyKey>, roots: ReadonlyArray<string>): Array<string | number> {
  let at: unknown[] = [schema];
  return path.map((segment, depth) => {
    const defs = expand(at);
    const next: unknown[] = [];
    let named = depth === 0 && typeof segment === 'string' && roots.includes(segment);
    for (const def of defs) {
      if (def.type === 'object' && def.shape && typeof segment === 'string' && Object.hasOwn(def.shape, segment)) {
        named = true;
        next.push(def.shape[segment]);
      } else if (def.type === 'record') {
        if (typeof segment === 'string' && namedKey(def.keyType, segment)) named = true;
        next.push(def.valueType);
      } else if (def.type === 'array' && typeof segment === 'number') {
        named = true;
        next.push(def.element);
      } else if (def.type === 'tuple' && typeof segment === 'number') {
        named = true;
        next.push(def.items?.[segment] ?? def.rest);
      }
    }
    at = next;
    return named && typeof segment !== 'symbol' ? segment : '*';
  });
}

/**
 * Each issue as a round's failure, `source` from the unmasked head of its path (a source name):
 * - `unrecognized_keys` (a strict object's extra keys) is counted, `2 unrecognized keys`, at the
 *   path of the object holding them;
 * - `invalid_key` (a record's or map's key its key schema refuses) is counted per record,
 *   `1 key not matching the schema`, at the record's path, `expected` from the key schema
 *   (`string matching /^flag_/`);
 * - any other issue keeps zod's message — which in zod 4's locale names what the schema expects
 *   and the received value's type, never the value — at its masked path ({@link maskedPath}).
 */
export function schemaFailures(schema: ZodType, issues: ReadonlyArray<ZodLikeIssue>, roots: ReadonlyArray<string>): StateIssue[] {
  const out: StateIssue[] = [];
  const keyCounts = new Map<string, { failure: StateIssue; count: number }>();
  for (const issue of issues) {
    const head = issue.path[0];
    const source = head === undefined ? '(root)' : typeof head === 'symbol' ? head.toString() : String(head);
    const raw = issue as ZodLikeIssue & { keys?: unknown; issues?: ZodLikeIssue[] };
    if (issue.code === 'invalid_key') {
      const [field] = toFieldIssues([{ path: maskedPath(schema, issue.path.slice(0, -1), roots), message: '' }]);
      const counted = keyCounts.get(`${source}\0${field!.field}`);
      if (counted) {
        counted.count += 1;
        counted.failure.message = `${counted.count} keys not matching the schema`;
        continue;
      }
      const failure: StateIssue = { source, kind: 'invalid', field: field!.field, message: '1 key not matching the schema' };
      const inner = Array.isArray(raw.issues) && raw.issues.length > 0 ? toFieldIssues([raw.issues[0]!])[0]!.expected : undefined;
      if (inner !== undefined) failure.expected = inner;
      keyCounts.set(`${source}\0${field!.field}`, { failure, count: 1 });
      out.push(failure);
      continue;
    }
    const [field] = toFieldIssues([{ ...issue, path: maskedPath(schema, issue.path, roots) }]);
    if (issue.code === 'unrecognized_keys') {
      const count = Array.isArray(raw.keys) ? raw.keys.length : 0;
      field!.message = count > 0 ? `${count} unrecognized key${count === 1 ? '' : 's'}` : 'unrecognized keys';
      // The handler's `expected: 'no other keys'` is left out: a state failure says it in its message.
      delete field!.expected;
    }
    out.push({ source, kind: 'invalid', ...field! });
  }
  return out;
}
