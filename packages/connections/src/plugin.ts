/**
 * `connections({ redis, mongo })`: a handler plugin that hands each invocation healthy
 * clients as typed ctx members and records how each was obtained. Warm invocations take
 * the synchronous path (no promise, no log line); connects, checks, rebuilds and retries
 * are logged once per invocation.
 */
import type { Context, Plugin } from '@steadyfn/handler';
import { recoveredFrom } from '@steadyfn/handler/internal';
import { checkKnownKeys, ConfigurationError, CONTEXT_MEMBERS, extendingAt, invalidOption, keysOf, oneOfOption } from '@steadyfn/handler/internal';
import { detectPlatform } from './profiles.js';
import { CLOSED_ERROR, CUT_OFF, REUSE, Uses, openUses, usesOf, type UseRecord } from './records.js';
import { attributeClosed, type ClosedError, type ClosedVerdict } from './closed.js';
import { closeOnSigterm } from './shutdown.js';
import type { ClientHandle, Lease } from './spec.js';

/** What a handle puts on ctx: its `contextValue` (Redis: commands with read retry) or the client itself. */
export type ContextValueOf<H> = H extends { contextValue(client: any): infer V } ? V : H extends ClientHandle<infer T> ? T : never;

/** Options of `connections()`. */
export interface ConnectionsPluginOptions {
  /**
   * Level of the per-invocation record line, or `false` for none.
   * @default 'info'
   */
  log?: 'info' | 'debug' | false;
  /**
   * Also log invocations in which every client was simply reused. Off by default: a warm
   * instance then writes nothing, and a line appears when a client was connected, checked
   * after idling, rebuilt or an operation was retried. `connectionsRecord(ctx)` reads the
   * record of any invocation.
   * @default false
   */
  logReused?: boolean;
  /**
   * Close every client on SIGTERM (see `closeOnSigterm`).
   * @default true when a serverless platform is detected, else false
   */
  closeOnSigterm?: boolean;
}

/** The per-invocation record: for each ctx member, how its client was obtained and used. */
export type ConnectionsRecord = Record<string, UseRecord>;

type AnyHandle = ClientHandle<unknown> & { contextValue?(client: unknown): unknown; [REUSE]?: (at?: number) => Lease<unknown> | undefined; [CLOSED_ERROR]?: ClosedError<unknown>; [CUT_OFF]?: (client: unknown) => void };

/**
 * The record of the invocation `ctx` (from the `connections` plugin), built on demand;
 * undefined when the plugin did not run for it.
 * @example
 * handler({ use: [connections({ redis: cache })] }, async (input, ctx) => {
 *   const record = connectionsRecord(ctx); // { redis: { state: 'reused', idleMs: 812, reconnects: 0, retries: 0 } }
 * });
 */
export function connectionsRecord(ctx: object): ConnectionsRecord | undefined {
  return usesOf(ctx)?.toJSON();
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const PLUGIN_KEYS = keysOf<ConnectionsPluginOptions>({ log: true, logReused: true, closeOnSigterm: true });

/**
 * A handler plugin that puts each handle's client on ctx under its key, all obtained in
 * parallel before the function runs, and closes them on SIGTERM.
 *
 * @param handles - `{ [ctx member]: handle }`; each handle needs its own `name`.
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid option, a value that is not a handle, or two handles with one name.
 * @example
 * const cache = redis();
 * export const main = handler({ use: [connections({ redis: cache })] }, async (input, ctx) => ctx.redis.get('k'));
 */
export function connections<const M extends Record<string, ClientHandle<any>>>(
  handles: M,
  options: ConnectionsPluginOptions = {},
): Plugin<{ [K in keyof M]: ContextValueOf<M[K]> }> {
  type Added = { [K in keyof M]: ContextValueOf<M[K]> };
  if (typeof handles !== 'object' || handles === null) invalidOption('connections', 'handles', 'an object of client handles', handles);
  const keys = Object.keys(handles);
  const list = keys.map((key) => {
    const handle = handles[key] as unknown as AnyHandle;
    if (typeof handle !== 'object' || handle === null || typeof handle.acquire !== 'function' || typeof handle.name !== 'string') {
      invalidOption('connections', `handles.${key}`, 'a client handle (redis(), mongo(), defineClient(), …)', handle);
    }
    // The key becomes a ctx member: one the handler owns (ctx.log, ctx.signal) would be replaced.
    if (CONTEXT_MEMBERS.has(key)) invalidOption('connections', `handles.${key}`, `under a name that is not a member of every ctx (${[...CONTEXT_MEMBERS].join(', ')})`, key);
    return handle;
  });
  const names = list.map((handle) => handle.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  // Records are kept per client name: two clients with one name would share a record.
  if (duplicate !== undefined) {
    throw new ConfigurationError(`connections(): two clients are named "${duplicate}"; every client needs its own \`name\` (pass \`name\` to the factory)`, {
      field: 'handles',
      expected: 'handles with distinct names',
    });
  }
  checkKnownKeys('connections', '', options, PLUGIN_KEYS);
  const level = oneOfOption('connections', 'log', options.log, ['info', 'debug', false] as const, 'info');
  const logReused = oneOfOption('connections', 'logReused', options.logReused, [true, false] as const, false);
  const sigterm = oneOfOption('connections', 'closeOnSigterm', options.closeOnSigterm, [true, false] as const, detectPlatform() !== 'direct');

  let sigtermInstalled = false;
  // The ctx members of the last invocation: reused as they are while the clients stay the same.
  let members: Record<string, unknown> = {};
  let lastClients: unknown[] = [];

  function membersFor(leases: ReadonlyArray<Lease<unknown>>): Added {
    let same = leases.length === lastClients.length;
    for (let i = 0; same && i < leases.length; i++) same = leases[i]!.client === lastClients[i];
    if (!same) {
      const next: Record<string, unknown> = {};
      leases.forEach((lease, i) => (next[keys[i]!] = list[i]!.contextValue ? list[i]!.contextValue!(lease.client) : lease.client));
      // Frozen: the handler then checks its names once, not on every warm invocation that hands it back.
      members = Object.freeze(next);
      lastClients = leases.map((lease) => lease.client);
    }
    return members as Added;
  }

  /** Each handle checks its client before the next use: the invocation was cut off by its deadline. */
  function cutOffAll(uses: Uses): void {
    for (let i = 0; i < list.length; i++) list[i]![CUT_OFF]?.(uses.leases[i]!.client);
  }

  function opened(ctx: Context, leases: ReadonlyArray<Lease<unknown>>): Added {
    openUses(ctx, new Uses(keys, names, leases));
    return membersFor(leases);
  }

  return {
    name: 'connections',
    extend(ctx) {
      if (!sigtermInstalled) {
        sigtermInstalled = true;
        if (sigterm) closeOnSigterm();
      }
      // Warm: every client is cached and needs no check, so no promise at all. The idle checks
      // use the time the handler has just read for its deadline check (no clock read of their own).
      const at = extendingAt(ctx);
      // Of the handles' number, not grown by push (which reserves room for 17).
      const leases = new Array<Lease<unknown>>(list.length);
      let reused = 0;
      while (reused < list.length) {
        const lease = list[reused]![REUSE]?.(at);
        if (!lease) break;
        leases[reused++] = lease;
      }
      if (reused === list.length) return opened(ctx, leases);
      // All at once: a cold start pays the slowest connect, not their sum.
      return Promise.all(list.map((handle, i) => leases[i] ?? handle.acquire())).then((all) => opened(ctx, all));
    },
    onError(ctx, error) {
      // A DEADLINE_EXCEEDED invocation leaves its clients to be checked before their next use (below).
      // A driver error the function's own use of a ctx client raised (not through `run`, whose
      // errors are typed already) reaches the handler as the untyped INTERNAL 500. When that
      // client was closed under it (the function's own close() in a concurrent invocation, or a
      // rebuild here), the handle that owns it types it as `run` would: CONNECTION_UNAVAILABLE when
      // the error proves the operation unsent, else CONNECTION_LOST (503, retryable). A throw
      // from onError replaces the invocation's error (handler() and toMiddy() alike): the plugins
      // before this one in `use` receive the typed one in their onError (an onion).
      const uses = usesOf(ctx);
      if (!uses) return;
      if (error.code === 'DEADLINE_EXCEEDED' || ctx.signal.aborted) {
        // Cut off by the deadline, maybe inside a driver call of its own on a silently dead socket
        // (ctx.mongo within the idle threshold): each client is checked before its next use. Read
        // from ctx.signal too: an inner onError may have replaced the cut-off with its own error.
        cutOffAll(uses);
        return;
      }
      if (error.code !== 'INTERNAL') return;
      // Each mongo() handle may own a driver network error: attributed to the one whose servers
      // it names, else to all it may concern (each checked before its next use, none misnamed).
      const verdicts: ClosedVerdict[] = [];
      for (let i = 0; i < list.length; i++) {
        const verdict = list[i]![CLOSED_ERROR]?.(uses.leases[i]!.client, error.cause);
        if (verdict) verdicts.push(verdict);
      }
      const typed = attributeClosed(verdicts, error.cause);
      if (typed) throw typed;
    },
    finally(ctx) {
      // The idle clock starts when the invocation ends, not when it began.
      for (const handle of list) handle.touch();
      const uses = usesOf(ctx);
      // A later plugin's onError recovered from the deadline (a fallback answer): this plugin's
      // onError did not run, but the function was cut off all the same (also when what it recovered
      // from was an inner plugin's replacement of the cut-off: ctx.signal says the deadline came).
      const recovered = uses ? recoveredFrom(ctx) : undefined;
      if (recovered && (recovered.code === 'DEADLINE_EXCEEDED' || ctx.signal.aborted)) cutOffAll(uses!);
      if (level === false) return;
      if (!uses || (!logReused && !uses.notable())) return;
      ctx.log[level]('connections', { clients: uses.toJSON() });
    },
  };
}
