/**
 * A source of your own: any async function (an HTTP API, a parameter store, a file).
 */
import { checkKnownKeys, invalidOption, keysOf } from '@steadyfn/handler/internal';
import type { Loaded, StateSource } from '../types.js';
import { functionOption } from '../options.js';
import { abortReason, sameVersion, versioned } from '../util.js';

/** Options of `custom()`: `load(signal)`, and optionally `version(signal)` for cheap revalidation. */
export interface CustomSourceOptions<T> {
  /** Loads the value; stop when `signal` aborts. */
  load: (signal: AbortSignal) => T | Promise<T>;
  /**
   * Reads a cheap version of the value (an ETag, a counter, a timestamp). With it, a stale
   * state costs one `version` call when nothing changed; without it, `load` runs again.
   * It is read before the value, so the value is never older than the version kept with it.
   * An answer of `null` or `undefined` (an API without an ETag) is no version: `load` then runs
   * each time the state is stale.
   */
  version?: (signal: AbortSignal) => unknown | Promise<unknown>;
  /** Shown in error messages, e.g. `https://config.example/flags` (a URL's credentials are shown as `[redacted]`). */
  description?: string;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const CUSTOM_KEYS = keysOf<CustomSourceOptions<unknown>>({ load: true, version: true, description: true });

/**
 * A source from your own load function (and, optionally, a version function).
 * @throws ConfigurationError (`CONFIG_INVALID`) when `load` or `version` is not a function, or `description` not a string.
 */
export function custom<T>(options: CustomSourceOptions<T>): StateSource<T> {
  checkKnownKeys('custom', '', options, CUSTOM_KEYS);
  if (typeof options.load !== 'function') invalidOption('custom', 'load', 'a function (signal) => Promise<value>', options.load);
  functionOption('custom', 'version', options.version, 'a function (signal) => version');
  if (options.description !== undefined && typeof options.description !== 'string') invalidOption('custom', 'description', 'a string', options.description);
  const { version } = options;

  const loadAt = async (known: unknown, signal: AbortSignal): Promise<Loaded<T>> => {
    if (signal.aborted) throw abortReason(signal);
    const value = await options.load(signal);
    return version ? versioned(value, known) : { value };
  };

  const source: StateSource<T> = {
    ...(options.description !== undefined ? { description: options.description } : {}),
    load: async (signal) => loadAt(version ? await version(signal) : undefined, signal),
  };
  if (version) {
    source.revalidate = async (known, signal) => {
      const current = (await version(signal)) ?? null;
      if (sameVersion(current, known.version)) return 'unchanged';
      return loadAt(current, signal);
    };
  }
  return source;
}
