/**
 * Merging what a plugin's `extend` returns onto `ctx`. The members every ctx has (`signal`,
 * `log`, `deadline`, …) are the core's: an extension naming one would replace it for the
 * function and for every later hook (and break the core's own logging), so it is refused as a
 * configuration error — terminal, since the same plugin does it on every retry.
 */
import { ConfigurationError } from './errors.js';

/** The members of every `ctx` (`BaseContext`); no plugin may add one of these names. */
export const CONTEXT_MEMBERS: ReadonlySet<string> = new Set([
  'provider',
  'trigger',
  'functionName',
  'requestId',
  'deliveryId',
  'deadline',
  'remainingMs',
  'signal',
  'coldStart',
  'traceparent',
  'tracestate',
  'log',
  'principal',
  'raw',
  'input',
]);

/**
 * Puts the members `added` (what `plugin`'s `extend` returned) on `ctx`.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`, field `use.<plugin>.extend`) when `added` names a
 *   core ctx member, or has an own `__proto__` member (an object parsed from JSON keeps one), which
 *   `Object.assign` would turn into ctx's prototype, taking every core member with it.
 */
export function extendContext(ctx: object, added: unknown, plugin: string): void {
  if (typeof added !== 'object' || added === null) return;
  // A warm plugin hands back the same frozen object every invocation (`connections`): its members
  // cannot have changed since it passed, so the checks below are not run again, and its keys are
  // copied from the list made then (what `Object.assign` copies, without its generic walk).
  if (added === lastChecked) {
    const target = ctx as Record<PropertyKey, unknown>;
    const source = added as Record<PropertyKey, unknown>;
    for (const key of lastKeys) target[key] = source[key];
    return;
  }
  if (Object.hasOwn(added, '__proto__')) {
    throw new ConfigurationError(`plugin "${plugin}": extend returned an object with its own "__proto__" member (parsed from JSON?), which would replace ctx's prototype; leave it out`, {
      field: `use.${plugin}.extend`,
      expected: 'an object without an own "__proto__" member',
    });
  }
  for (const name in added) {
    if (CONTEXT_MEMBERS.has(name)) {
      throw new ConfigurationError(`plugin "${plugin}": extend returned the ctx member "${name}", which belongs to the handler; give it another name`, {
        field: `use.${plugin}.extend`,
        expected: `members other than ${[...CONTEXT_MEMBERS].join(', ')}`,
      });
    }
  }
  // Only a frozen object is remembered: one that can still change must be checked each time.
  if (Object.isFrozen(added)) {
    // Object.assign's keys: own, enumerable, strings then symbols (fixed for good once frozen).
    lastKeys = Reflect.ownKeys(added).filter((key) => Object.prototype.propertyIsEnumerable.call(added, key));
    lastChecked = added;
  }
  Object.assign(ctx, added);
}

/** The last frozen extension that passed `extendContext`'s checks (one entry: the common case is one such plugin), and its keys. */
let lastChecked: object | undefined;
let lastKeys: ReadonlyArray<PropertyKey> = [];
