/** Schema issues (zod's shape) as the `FieldIssue`s every steadyfn error carries. */
import type { FieldIssue } from '../errors.js';

/**
 * An issue as zod (and other Standard Schema validators) report it. Only the schema's own
 * words are read (`expected`, `values`, `minimum`, `format` …), never `input`: an issue's
 * `expected` must not quote the value that failed.
 */
export interface ZodLikeIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  expected?: unknown;
}

/** The dotted path of an issue, e.g. `items.0.sku`; `''` for the root. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p))).join('.');
}

/** At most this many allowed values are listed in `expected`; the rest become `…`. */
const MAX_VALUES = 20;

/** A schema constant as TypeScript would write it: `"paid"`, `3`, `10n`, `null`, `undefined`. */
function literal(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

function oneOf(values: ReadonlyArray<unknown>): string {
  const shown = values.slice(0, MAX_VALUES).map(literal);
  if (values.length > MAX_VALUES) shown.push('…');
  return shown.join(' | ');
}

const UNITS: Record<string, string> = { string: 'characters', array: 'items', set: 'items', file: 'bytes' };

/** `number >= 1`, `string of at most 64 characters`, `date >= 2026-01-01T00:00:00.000Z` … */
function bound(origin: unknown, limit: unknown, small: boolean, inclusive: unknown, exact: unknown): string | undefined {
  if (typeof origin !== 'string' || (typeof limit !== 'number' && typeof limit !== 'bigint')) return undefined;
  const unit = UNITS[origin];
  if (unit !== undefined) {
    const words = exact === true ? 'exactly' : small ? (inclusive === false ? 'more than' : 'at least') : inclusive === false ? 'fewer than' : 'at most';
    return `${origin} of ${words} ${literal(limit)} ${unit}`;
  }
  const op = exact === true ? '=' : `${small ? '>' : '<'}${inclusive === false ? '' : '='}`;
  const shown = origin === 'date' && typeof limit === 'number' && Number.isFinite(limit) ? new Date(limit).toISOString() : literal(limit);
  return `${origin} ${op} ${shown}`;
}

function format(issue: Record<string, unknown>): string | undefined {
  const { format: name, pattern, prefix, suffix, includes } = issue;
  if (typeof prefix === 'string') return `string starting with ${JSON.stringify(prefix)}`;
  if (typeof suffix === 'string') return `string ending with ${JSON.stringify(suffix)}`;
  if (typeof includes === 'string') return `string including ${JSON.stringify(includes)}`;
  if (name === 'regex' && typeof pattern === 'string') return `string matching ${pattern}`;
  return typeof name === 'string' ? `string in ${name} format` : undefined;
}

/**
 * What the schema expected where an issue arose, in the schema's own words, when the issue
 * names it (zod 4's issue codes):
 * - `invalid_type`: the type (`number`);
 * - `invalid_value` (enum, literal) and a discriminated union's `invalid_union`: the allowed
 *   values, `"paid" | "shipped"` (the first 20, then `…`);
 * - `too_small` / `too_big`: the bound, `number >= 1`, `string of at most 64 characters`;
 * - `invalid_format`: `string in email format`, `string matching /^[a-z]+$/`;
 * - `not_multiple_of`: `multiple of 5`;
 * - `unrecognized_keys` (a `.strict()` object): `no other keys`.
 * `undefined` for other issues (custom refinements: their message says it).
 */
export function expectedOf(issue: ZodLikeIssue): string | undefined {
  if (typeof issue.expected === 'string') return issue.expected;
  const raw = issue as unknown as Record<string, unknown>;
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === undefined ? undefined : String(issue.expected);
    case 'invalid_value':
      return Array.isArray(raw.values) && raw.values.length > 0 ? oneOf(raw.values) : undefined;
    case 'invalid_union':
      return Array.isArray(raw.options) && raw.options.length > 0 ? oneOf(raw.options) : undefined;
    case 'too_small':
      return bound(raw.origin, raw.minimum, true, raw.inclusive, raw.exact);
    case 'too_big':
      return bound(raw.origin, raw.maximum, false, raw.inclusive, raw.exact);
    case 'invalid_format':
      return format(raw);
    case 'not_multiple_of':
      return typeof raw.divisor === 'number' || typeof raw.divisor === 'bigint' ? `multiple of ${literal(raw.divisor)}` : undefined;
    case 'unrecognized_keys':
      return 'no other keys';
    default:
      return undefined;
  }
}

/**
 * The message of an issue: the validator's, except where its default wording quotes the
 * caller's input. zod's `unrecognized_keys` names the keys it did not expect (`Unrecognized
 * key: "ssn-123-45-6789"`), in every locale: it becomes `Unrecognized key(s): N` (their count).
 * zod 4's other default messages hold only the schema's words and the input's type; custom
 * messages (refinements) are the schema author's text and are kept.
 */
function messageOf(issue: ZodLikeIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const keys = (issue as unknown as { keys?: unknown }).keys;
  return `Unrecognized key(s): ${Array.isArray(keys) ? keys.length : 'some'}`;
}

/**
 * Maps validator issues to `{ field, message, expected? }`, `expected` from {@link expectedOf};
 * `prefix` (e.g. `payload`) is put before every field. The message is the validator's, except
 * an unrecognized-keys issue's, which never names the keys: `Unrecognized key(s): 2`.
 *
 * @example
 * toFieldIssues(result.error.issues); // [{ field: 'status', message: 'Invalid option: expected one of "paid"|"shipped"', expected: '"paid" | "shipped"' }]
 */
export function toFieldIssues(issues: ReadonlyArray<ZodLikeIssue>, prefix?: string): FieldIssue[] {
  return issues.map((issue) => {
    const path = issuePath(issue.path);
    const out: FieldIssue = { field: prefix === undefined ? path : path === '' ? prefix : `${prefix}.${path}`, message: messageOf(issue) };
    const expected = expectedOf(issue);
    if (expected !== undefined) out.expected = expected;
    return out;
  });
}

/** A path segment as a dotted field segment: a Standard Schema `{ key }` segment by its key. */
function pathSegment(segment: unknown): PropertyKey {
  if (typeof segment === 'object' && segment !== null) return pathSegment((segment as { key?: unknown }).key);
  return typeof segment === 'string' || typeof segment === 'number' || typeof segment === 'symbol' ? segment : String(segment);
}

/** One issue as `{ field, message, expected? }`, every other key dropped; `undefined` for a value that is not an object. */
function normalizeIssue(raw: unknown): FieldIssue | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { field, path, message, expected, code } = raw as Record<string, unknown>;
  const text = typeof message === 'string' ? message : 'Invalid value';
  if (typeof field !== 'string' && typeof field !== 'number' && Array.isArray(path)) {
    // A validator's issue (zod's `{ path, message, code }`): mapped as `ValidationError`'s are,
    // so `expected` is in the schema's words and an unrecognized key is not named.
    const zodLike = { ...(raw as object), path: path.map(pathSegment), message: text, code: typeof code === 'string' ? code : undefined } as ZodLikeIssue;
    return toFieldIssues([zodLike])[0];
  }
  const out: FieldIssue = { field: typeof field === 'string' ? field : typeof field === 'number' ? String(field) : '', message: text };
  if (typeof expected === 'string') out.expected = expected;
  return out;
}

/**
 * `issues` as an error keeps them: entries that are objects, each `{ field, message, expected? }`
 * (see `SteadyErrorOptions.issues`). Total: an entry that throws when read is dropped, a
 * value that is not an array is no issues (`[]`); `undefined` stays `undefined`.
 */
export function normalizeIssues(issues: unknown): FieldIssue[] | undefined {
  if (issues === undefined) return undefined;
  const out: FieldIssue[] = [];
  try {
    if (!Array.isArray(issues)) return out;
    for (const raw of issues) {
      try {
        const issue = normalizeIssue(raw);
        if (issue !== undefined) out.push(issue);
      } catch {
        // An entry that throws when read (a getter, a Proxy) cannot be shown: left out.
      }
    }
  } catch {
    // An array (a Proxy of one) whose iteration throws: the entries read so far.
  }
  return out;
}
