/**
 * Environment variables as a source. Reading them costs no round trip; revalidation re-reads
 * them (tests and some runtimes change `process.env` in place).
 */
import { checkKnownKeys, invalidOption, keysOf, setOwn } from '@steadyfn/handler/internal';
import type { Loaded, StateSource } from '../types.js';

/** Options of `envVars()`: the names to read (`keys`), or a `prefix` (stripped unless `stripPrefix: false`). */
export interface EnvVarsOptions {
  /** Exactly these variables (a missing one is `undefined`, for the schema to judge). */
  keys?: ReadonlyArray<string>;
  /** Every variable whose name starts with this. */
  prefix?: string;
  /** Drop `prefix` from the names in the value (`APP_PORT` -> `PORT`). Default true. */
  stripPrefix?: boolean;
  /** Where to read from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const ENV_KEYS = keysOf<EnvVarsOptions>({ keys: true, prefix: true, stripPrefix: true, env: true });

/** Environment variables, as an object of strings. Give `keys`, `prefix`, or both. */
export function envVars(options: EnvVarsOptions): StateSource<Record<string, string | undefined>> {
  checkKnownKeys('envVars', '', options, ENV_KEYS);
  if (!options.keys && options.prefix === undefined) invalidOption('envVars', 'keys', 'a list of names (or give prefix)', options.keys);
  const strip = options.stripPrefix ?? true;

  const read = (): Loaded<Record<string, string | undefined>> => {
    const env = options.env ?? process.env;
    const value: Record<string, string | undefined> = {};
    for (const key of options.keys ?? []) setOwn(value, key, env[key]);
    const prefix = options.prefix;
    if (prefix !== undefined) {
      for (const key of Object.keys(env)) {
        if (key.startsWith(prefix) && key.length > prefix.length) setOwn(value, strip ? key.slice(prefix.length) : key, env[key]);
      }
    }
    return { value, version: JSON.stringify(Object.entries(value)) };
  };

  return {
    description: options.prefix !== undefined ? `environment ${options.prefix}*` : 'environment',
    load: async () => read(),
    revalidate: async (known) => {
      const next = read();
      return next.version === known.version ? 'unchanged' : next;
    },
  };
}
