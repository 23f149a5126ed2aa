/**
 * Environment variables as a source. Reading them costs no round trip; revalidation re-reads
 * them (tests and some runtimes change `process.env` in place).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { checkKnownKeys, invalidOption, keysOf, setOwn, stringOption } from '@steadyfn/handler/internal';
import { booleanOption, recordOption } from '../options.js';
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

/**
 * Environment variables, as an object of strings. Give `keys`, `prefix`, or both.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: neither `keys` nor `prefix`,
 *   `keys` not a non-empty array of names, an empty `prefix` (it would read every variable), …
 */
export function envVars(options: EnvVarsOptions): StateSource<Record<string, string | undefined>> {
  checkKnownKeys('envVars', '', options, ENV_KEYS);
  if (!options.keys && options.prefix === undefined) invalidOption('envVars', 'keys', 'a list of names (or give prefix)', options.keys);
  if (options.keys !== undefined) {
    // A string would be read letter by letter (`R`, `E`, `G`…).
    if (!Array.isArray(options.keys) || options.keys.length === 0) invalidOption('envVars', 'keys', 'a non-empty array of variable names', options.keys);
    options.keys.forEach((key, i) => stringOption('envVars', `keys[${i}]`, key));
  }
  // An empty prefix would put every variable of the environment (secrets too) in the state.
  if (options.prefix !== undefined) stringOption('envVars', 'prefix', options.prefix);
  booleanOption('envVars', 'stripPrefix', options.stripPrefix);
  recordOption('envVars', 'env', options.env, 'an object of variable names to strings (like process.env)');
  const strip = options.stripPrefix ?? true;
  // The version is compared only within this instance: keyed by a random key of this source, so
  // a digest read from status() (a health check) cannot confirm a guess of the values — an
  // unkeyed SHA-256 of `[["REGION","eu-west-1"]]` could be computed by anyone, value by value.
  const versionKey = randomBytes(32);

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
    // The version is a keyed digest, never the values: status().versions ends up in health checks.
    return { value, version: createHmac('sha256', versionKey).update(JSON.stringify(Object.entries(value))).digest('base64url') };
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
