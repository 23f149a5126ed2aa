/**
 * An issue path with the caller's words taken out. zod reports an issue inside a `z.record()`,
 * a `z.map()` or an object's `.catchall()` under the key it was found at — a key the caller
 * chose (an email, a user id, a token as the key), that is, payload. Walking the schema along
 * the path tells a key the schema names (a declared shape key, an enum or literal record key)
 * from one the caller sent: the latter becomes `*`. One copy for the handler's validation errors
 * and `@steadyfn/state`'s round failures.
 */

/** A zod 4 schema's definition, read through its public introspection (`schema._zod.def`). */
interface Def {
  type?: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
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

/** What a segment the schema does not name becomes. */
export const MASKED_SEGMENT = '*';

function defOf(schema: unknown): Def | undefined {
  const zod = (schema as { _zod?: { def?: Def } } | null | undefined)?._zod;
  return zod && typeof zod.def === 'object' && zod.def !== null ? zod.def : undefined;
}

/** Whether `schema` is a zod 4 schema (one this walk can read). */
export function isZod4Schema(schema: unknown): boolean {
  return defOf(schema) !== undefined;
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
 * `path` with every segment the schema does not name itself replaced by `*` ({@link MASKED_SEGMENT}):
 * a key of a `z.record()` (unless its key schema lists it: an enum or literal key), any key of a
 * `z.map()`, an object's key its shape does not declare (a `.catchall()`'s), any segment under a
 * schema this walk does not know. Keys of a declared shape and array and tuple indexes are kept,
 * and the walk goes on below a masked key (a record's values, a map's values, the catchall), so
 * `{ byEmail: z.record(z.string(), z.object({ qty })) }` reports `byEmail.*.qty`.
 *
 * @param schema the zod 4 schema the value was checked by
 * @param roots names kept at the top however the schema reads them (`@steadyfn/state`'s source names)
 * @example maskedPath(z.object({ byEmail: z.record(z.string(), z.number()) }), ['byEmail', 'ann@example.com']) // ['byEmail', '*']
 */
export function maskedPath(schema: unknown, path: ReadonlyArray<PropertyKey>, roots: ReadonlyArray<string> = []): Array<string | number> {
  let at: unknown[] = [schema];
  return path.map((segment, depth) => {
    const defs = expand(at);
    const next: unknown[] = [];
    let named = depth === 0 && typeof segment === 'string' && roots.includes(segment);
    for (const def of defs) {
      if (def.type === 'object' && def.shape && typeof segment === 'string' && Object.hasOwn(def.shape, segment)) {
        named = true;
        next.push(def.shape[segment]);
      } else if (def.type === 'object' && def.catchall !== undefined) {
        next.push(def.catchall);
      } else if (def.type === 'record') {
        if (typeof segment === 'string' && namedKey(def.keyType, segment)) named = true;
        next.push(def.valueType);
      } else if (def.type === 'map') {
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
    return named && (typeof segment === 'string' || typeof segment === 'number') ? segment : MASKED_SEGMENT;
  });
}
