/**
 * The options of `defineState()`: their types, and their check — every option refused at once
 * with `CONFIG_INVALID` naming the field and what was expected, unknown keys included — into the
 * settings the cache runs on (defaults applied, the deprecated names mapped to the `…Ms` ones).
 */
import { checkKnownKeys, invalidOption, keysOf, type Logger } from '@steadyfn/handler/internal';
import type { ZodType, output } from 'zod';
import type { SourceValue, StateSource } from './types.js';

/** The sources of a state, by name: each name is a top-level key of the state. */
export type SourceMap = Record<string, StateSource<any>>;

/** The raw values of the sources, before the schema. */
export type SourceValues<S extends SourceMap> = { [K in keyof S]: SourceValue<S[K]> };

/** The state type: the schema's output, or the raw source values when there is no schema. */
export type StateOf<S extends SourceMap, Schema> = Schema extends ZodType ? output<Schema> : SourceValues<S>;

/** Options of `defineState()`. Durations are milliseconds. */
export interface StateOptions<S extends SourceMap, Schema extends ZodType | undefined> {
  /** The sources, by name; each name becomes a top-level key of the state. */
  sources: S;
  /** Validates the whole state (an object keyed by source name). Optional, but strongly advised. */
  schema?: Schema;
  /**
   * How long a loaded or revalidated state is served without asking any store, in ms
   * (`Infinity`: never revalidated).
   * @default 60000
   */
  maxAgeMs?: number;
  /**
   * How long past `maxAgeMs`, in ms, the last good state is still served when a reload fails
   * (a store is down, the new data is invalid). 0: a failed reload is thrown.
   * @default 0
   */
  staleIfErrorMs?: number;
  /**
   * After a failed reload, serve the last good state (within `staleIfErrorMs`) for this many
   * ms before trying the stores again, so an outage does not cost every invocation a failed
   * round trip.
   * @default 1000
   */
  retryAfterErrorMs?: number;
  /** @deprecated The old name of `maxAgeMs` (the same milliseconds); give one of the two. */
  maxAge?: number;
  /** @deprecated The old name of `staleIfErrorMs`; give one of the two. */
  staleIfError?: number;
  /** @deprecated The old name of `retryAfterErrorMs`; give one of the two. */
  retryAfterError?: number;
  /**
   * Upper bound for one load or revalidation, in ms, on top of the invocation's deadline. An
   * invocation waiting on a revalidation the last good state can stand in for (within
   * `staleIfErrorMs`) waits at most half the time it has left and is then served that state; the
   * shared revalidation stops at the latest such limit among the invocations waiting on it
   * (never past `timeoutMs` from its start), so one with little time left does not cut it short
   * for the others. More than
   * 2^31 − 1 (about 24.8 days, Node's longest timer), or `Infinity`: no bound of its own. At
   * least 1 (0 is refused: it is not "no bound").
   * @default 10000
   */
  timeoutMs?: number;
  /** Where warnings go; defaults to the invocation's `ctx.log`. */
  logger?: Logger;
  /** Clock for the staleness contract (epoch ms). Default `Date.now`. */
  now?: () => number;
}

/** `StateOptions` checked, with their defaults: what the cache runs on. Durations are ms. */
export interface StateSettings {
  /** `sources`, as given. */
  sources: SourceMap;
  /** The sources' names, in the order given (at least one). */
  names: string[];
  /** `schema`, as given. */
  schema: ZodType | undefined;
  /** `maxAgeMs` (or `maxAge`). */
  maxAge: number;
  /** `staleIfErrorMs` (or `staleIfError`). */
  staleIfError: number;
  /** `retryAfterErrorMs` (or `retryAfterError`). */
  retryAfterError: number;
  /** `timeoutMs`. */
  timeoutMs: number;
  /** `logger`, as given (undefined: each call's `ctx.log`). */
  logger: Logger | undefined;
  /** `now`, or `Date.now`. */
  now: () => number;
}

/** A duration option in ms (≥ `min`, or `Infinity`: no bound), or `fallback` when undefined. */
function duration(field: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    invalidOption('defineState', field, `a number of milliseconds ≥ ${min} (or Infinity)`, value);
  }
  return value;
}

/** A duration under its name, or under the name it had before `…Ms` (deprecated); not both. */
function renamed(options: Record<string, unknown>, field: string, old: string, fallback: number): number {
  if (options[field] !== undefined && options[old] !== undefined) invalidOption('defineState', old, `left out when "${field}" is given (it is the old name of "${field}")`, options[old]);
  return options[field] !== undefined ? duration(field, options[field], fallback) : duration(old, options[old], fallback);
}

/**
 * The schema must be a zod schema; when it is an object schema, each of its keys must name a
 * source (a key without one would fail every load with `STATE_INVALID`).
 */
function checkSchema(schema: unknown, names: string[]): void {
  const candidate = schema as { safeParseAsync?: unknown; shape?: unknown } | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.safeParseAsync !== 'function') {
    invalidOption('defineState', 'schema', 'a zod schema of the whole state (z.object({ <source name>: … }))', schema);
  }
  const shape = candidate.shape;
  if (typeof shape !== 'object' || shape === null) return;
  for (const key of Object.keys(shape)) {
    if (!names.includes(key)) invalidOption('defineState', `schema.${key}`, `the name of a source (${names.join(', ')})`, key);
  }
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const STATE_KEYS = keysOf<StateOptions<SourceMap, undefined>>({
  sources: true,
  schema: true,
  maxAgeMs: true,
  staleIfErrorMs: true,
  retryAfterErrorMs: true,
  maxAge: true,
  staleIfError: true,
  retryAfterError: true,
  timeoutMs: true,
  logger: true,
  now: true,
});

/**
 * Checks `defineState()`'s options and applies their defaults.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the first invalid option.
 */
export function resolveStateOptions(options: StateOptions<SourceMap, ZodType | undefined>): StateSettings {
  if (typeof options !== 'object' || options === null) invalidOption('defineState', 'options', 'an options object', options);
  checkKnownKeys('defineState', '', options, STATE_KEYS);
  const sources = options.sources;
  const names = typeof sources === 'object' && sources !== null && !Array.isArray(sources) ? Object.keys(sources) : [];
  if (names.length === 0) invalidOption('defineState', 'sources', 'an object naming at least one source', sources);
  for (const name of names) {
    if (typeof sources[name]?.load !== 'function') invalidOption('defineState', `sources.${name}`, 'a source (an object with a load function)', sources[name]);
  }
  const schema = options.schema as ZodType | undefined;
  if (schema !== undefined) checkSchema(schema, names);
  const raw = options as unknown as Record<string, unknown>;
  const maxAge = renamed(raw, 'maxAgeMs', 'maxAge', 60_000);
  const staleIfError = renamed(raw, 'staleIfErrorMs', 'staleIfError', 0);
  const retryAfterError = renamed(raw, 'retryAfterErrorMs', 'retryAfterError', 1_000);
  // Under 1 ms every load would time out: 0 is no way to ask for "no bound" (Infinity, or
  // anything past Node's longest timer, is).
  const timeoutMs = duration('timeoutMs', options.timeoutMs, 10_000, 1);
  if (options.now !== undefined && typeof options.now !== 'function') invalidOption('defineState', 'now', 'a function () => epoch milliseconds', options.now);
  const logger = options.logger as Partial<Logger> | undefined;
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    invalidOption('defineState', 'logger', 'a Logger (warn, error, … — e.g. createLogger() from @steadyfn/handler)', options.logger);
  }
  const now = options.now ?? Date.now;
  return { sources, names, schema, maxAge, staleIfError, retryAfterError, timeoutMs, logger: options.logger, now };
}
