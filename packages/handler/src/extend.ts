/**
 * Merging what a plugin's `extend` returns onto `ctx`. The members every ctx has (`signal`,
 * `log`, `deadline`, …) are the core's: an extension naming one would replace it for the
 * function and for every later hook (and break the core's own logging), so it is refused as a
 * configuration error — terminal, since the same plugin does it on every retry. So is a member
 * an earlier plugin already added to this ctx (`state()` and `connections({ state: … })`): the
 * later one would silently replace it, and the function read the wrong object.
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
 * Puts the members `added` (what `plugin`'s `extend` returned) on `ctx`: its own enumerable
 * members, strings then symbols (what `Object.assign` copies), each remembered as `plugin`'s.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`, field `use.<plugin>.extend`) when `added` names a
 *   core ctx member; or a member an earlier plugin's `extend` already put on this ctx (nothing of
 *   `added` is copied then); or has an own `__proto__` member (an object parsed from JSON keeps
 *   one), which `Object.assign` would turn into ctx's prototype, taking every core member with it.
 */
export function extendContext(ctx: object, added: unknown, plugin: string): void {
  if (typeof added !== 'object' || added === null) return;
  // A warm plugin hands back the same frozen object every invocation (`connections`): its members
  // cannot have changed since it passed, so the checks below are not run again, and its keys are
  // copied from the list made then (what `Object.assign` copies, without its generic walk); that
  // no earlier plugin added one of them to this ctx is checked every time, in `copy`.
  if (added === lastChecked) {
    copy(ctx, added, lastKeys, plugin);
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
  // Object.assign's keys: own, enumerable, strings then symbols (fixed for good once frozen).
  const keys = Reflect.ownKeys(added).filter((key) => Object.prototype.propertyIsEnumerable.call(added, key));
  copy(ctx, added, keys, plugin);
  // Only a frozen object is remembered: one that can still change must be checked each time.
  if (Object.isFrozen(added)) {
    lastKeys = keys;
    lastChecked = added;
  }
}

/**
 * Copies `keys` of `added` onto `ctx` and records them as `plugin`'s, after checking that no
 * earlier plugin added one of them to this ctx (on the warm path too: another plugin may add it).
 */
function copy(ctx: object, added: object, keys: ReadonlyArray<PropertyKey>, plugin: string): void {
  if (keys.length === 0) return;
  let owners = ownersOf.get(ctx);
  if (owners === undefined) ownersOf.set(ctx, (owners = new Map()));
  else for (const key of keys) if (owners.has(key)) throw addedTwice(plugin, owners.get(key)!, key);
  const target = ctx as Record<PropertyKey, unknown>;
  const source = added as Record<PropertyKey, unknown>;
  for (const key of keys) {
    target[key] = source[key];
    owners.set(key, plugin);
  }
}

/** The refusal of a member `plugin` adds that the plugin `earlier` already put on the same ctx. */
function addedTwice(plugin: string, earlier: string, key: PropertyKey): ConfigurationError {
  const by = earlier === plugin ? `another plugin named "${earlier}"` : `plugin "${earlier}"`;
  return new ConfigurationError(
    `plugin "${plugin}": extend returned the ctx member "${String(key)}", which ${by} already added; the later would silently replace the earlier, so give one of them another name (state()'s \`key\` option, another connections() handle name)`,
    { field: `use.${plugin}.extend`, expected: `members no earlier plugin added to ctx ("${String(key)}" is ${by}'s)` },
  );
}

/** For each ctx, which plugin added each of its members (a ctx lives for one invocation or message). */
const ownersOf = new WeakMap<object, Map<PropertyKey, string>>();

/** The last frozen extension that passed `extendContext`'s checks (one entry: the common case is one such plugin), and its keys. */
let lastChecked: object | undefined;
let lastKeys: ReadonlyArray<PropertyKey> = [];
