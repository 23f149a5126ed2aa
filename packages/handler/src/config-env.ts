/**
 * A function's configuration read from its environment variables with a schema, checked once
 * when the module loads: a missing or malformed variable fails the instance's start with a
 * `ConfigurationError` naming every such variable and what it must be, never its value.
 */
import { ConfigurationError, type FieldIssue } from './errors.js';
import { invalidOption } from './internal/options.js';
import { expectedOf, type ZodLikeIssue } from './internal/issues.js';

/** A schema `configFromEnv` can read the environment with: any zod object schema (`z.object({ … })`). */
export interface EnvSchema<T> {
  /** zod's non-throwing parse: the output, or the issues (path, message, code and the schema's own words, never `input`). */
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<ZodLikeIssue> } };
}

// zod's own messages ("Invalid input: expected string, received undefined", "Too small: …"):
// `expected` says the same in fewer words. Any other message is the schema author's.
const DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)\b/;

/** What variable `name` must be, in the schema's words: its first issue's `expected`, and its message when the author wrote one. */
function expectation(issue: ZodLikeIssue): string {
  const expected = expectedOf(issue);
  if (expected === undefined) return issue.message;
  return DEFAULT_MESSAGE.test(issue.message) || issue.message === '' ? expected : `${issue.message} (${expected})`;
}

/** `schema.safeParse(env)`, or what it threw. */
function parseOrThrown<T>(schema: EnvSchema<T>, env: Readonly<Record<string, string | undefined>>): ReturnType<EnvSchema<T>['safeParse']> | { thrown: unknown } {
  try {
    return schema.safeParse(env);
  } catch (thrown) {
    return { thrown };
  }
}

/** The constructor name of something thrown (`TypeError`), never its message. */
function errorName(thrown: unknown): string {
  const name = thrown instanceof Error ? thrown.constructor.name || thrown.name : typeof thrown;
  return /^[A-Za-z_$][\w$]{0,60}$/.test(name) ? name : 'an error';
}

/**
 * A copy of `env` (default `process.env`) without its empty variables, for `configFromEnv`:
 * a variable set to `''` (`OUTBOX_SWEEP_GRACE_MS=` in a deployment file) reads as unset, so its
 * `.default()` applies instead of `z.coerce.number()` turning `''` into `0`, and a required one
 * is reported as not set.
 * @param env - the variables; `process.env` by default.
 * @returns a new object holding every variable whose value is not `''`.
 * @example
 * export const config = configFromEnv(z.object({ GRACE_MS: z.coerce.number().int().nonnegative().default(5_000) }), emptyAsUnset());
 */
export function emptyAsUnset(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string | undefined> {
  const kept: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (value !== '') kept[name] = value;
  return kept;
}

/**
 * Parses `env` (default `process.env`) with `schema` and returns its result. On failure throws
 * a `ConfigurationError` (`CONFIG_INVALID`, terminal) whose message names every variable at
 * fault, whether it is unset or invalid, and what it must be in the schema's words, e.g.
 * `configuration refused: REDIS_URL is not set (expected a redis:// URL (string matching /^rediss?:\/\//)); BACKUP_BUCKET is invalid (expected string of at least 3 characters)`;
 * `field` is the first such variable and `issues` lists one `{ field, message, expected }` per
 * variable. No variable's value is read into the error (only whether it is set): a secret in
 * a malformed `REDIS_URL` never reaches a log. A variable that is unset is described by what
 * the schema asks of a set one (a second parse with it empty), not only as a missing string.
 * A schema that throws while reading the environment (zod lets an exception of a `.transform`
 * such as `new URL(s)` escape `safeParse`) is refused the same way, naming only the error's type:
 * its message may quote the value. An empty variable is a set one (`z.coerce.number()` reads
 * `''` as `0`): pass `emptyAsUnset(process.env)` to read it as unset.
 * Synchronous, so a CommonJS module can call it at load too.
 * @param schema - a zod object schema over the variables (`z.object({ REDIS_URL: z.string() })`),
 *   or anything with zod's `safeParse`; its own messages are shown, so a refinement should not
 *   quote the value it refuses.
 * @param env - the variables; `process.env` by default.
 * @returns the schema's output (defaults applied, `z.coerce` values converted).
 * @throws ConfigurationError `CONFIG_INVALID` for a refused configuration, a schema that throws
 *   (`field` `(environment)`, no `cause`), or a `schema` without `safeParse`.
 * @example
 * export const config = configFromEnv(z.object({ REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'), QUEUE_URL: z.url() }));
 */
export function configFromEnv<T>(schema: EnvSchema<T>, env: Readonly<Record<string, string | undefined>> = process.env): T {
  if (typeof (schema as Partial<EnvSchema<T>> | null)?.safeParse !== 'function') invalidOption('configFromEnv', 'schema', 'a zod schema (an object with safeParse)', schema);
  const parsed = parseOrThrown(schema, env);
  if ('thrown' in parsed) {
    // zod catches no exception of a `.transform`, codec or refinement (`new URL(s)`, `JSON.parse`):
    // it escapes `safeParse` raw, its message or `input` holding the value. Only its name is said,
    // and it is no `cause`, so no log prints it.
    const field = '(environment)';
    const expected = 'a schema that reads it without throwing';
    const message = `configuration refused: the schema threw ${errorName(parsed.thrown)} while reading the environment; its message is not shown`;
    throw new ConfigurationError(message, { field, expected, issues: [{ field, message, expected }] });
  }
  if (parsed.success) return parsed.data;
  // One entry per variable, in the schema's order of issues; the first issue of each says it.
  const first = new Map<string, ZodLikeIssue>();
  for (const issue of parsed.error.issues) {
    const name = issue.path.length === 0 ? '(environment)' : String(issue.path[0]);
    if (!first.has(name)) first.set(name, issue);
  }
  const issues: FieldIssue[] = [];
  for (const [name, issue] of first) {
    const unset = issue.path.length > 0 && env[name] === undefined;
    let described = issue;
    if (unset) {
      // What a set value must look like: the issue an empty one meets (none: any string goes).
      // A schema that throws on '' (a transform, an async check) leaves the plain "not set".
      const empty = parseOrThrown(schema, { ...env, [name]: '' });
      const asSet = 'thrown' in empty || empty.success ? undefined : empty.error.issues.find((i) => i.path.length > 0 && String(i.path[0]) === name);
      if (asSet !== undefined) described = asSet;
    }
    const expected = expectation(described);
    issues.push({ field: name, message: `${name} is ${unset ? 'not set' : 'invalid'}`, expected });
  }
  const message = `configuration refused: ${issues.map((i) => `${i.message} (expected ${i.expected})`).join('; ')}`;
  throw new ConfigurationError(message, { field: issues[0]!.field, expected: issues[0]!.expected!, issues });
}
