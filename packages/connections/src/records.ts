/**
 * What each client did for one invocation (new / reused / revalidated / reconnected, idle
 * time, retries). The plugin opens one `Uses` per invocation from the leases it obtained;
 * handles add rebuilds and retries that happen later in the same invocation. Concurrent
 * invocations (a batch, GCF/Azure concurrency) keep separate records. Nothing is built
 * for the log unless it is written or read.
 */
import { currentContext } from '@steadyfn/handler/internal';
import type { AcquireState, Lease, RunOptions } from './spec.js';

/**
 * The warm path of a handle made by `defineClient`: the cached client when it needs no
 * check, synchronously; called with the time (`Date.now()`) when the caller has just read it.
 * A registered symbol, so a handle from the other build (ESM/CJS) of this package still has it.
 */
export const REUSE: unique symbol = Symbol.for('steadyfn.connections.reuse') as never;

/**
 * `handle.run(fn)` as `fn(client, arg)`, for a caller that would otherwise make a closure per
 * call to carry `arg` (the command view: one `send` per command, the arguments as `arg`).
 * Registered like `REUSE`; a handle without it is used through `run`.
 */
export const RUN_WITH: unique symbol = Symbol.for('steadyfn.connections.runWith.v1') as never;

/**
 * `handle[CLOSED_ERROR](client, err)`: what `err`, thrown by the function's own use of `client`
 * (its ctx value, not through `run`), is — a connection error on a client closed under it, or a
 * driver network error that may be this client's — as a `ClosedVerdict`; undefined otherwise.
 * Registered like `REUSE` (v2: returns a verdict); the plugin's `onError` asks each handle and
 * attributes the error (`attributeClosed`).
 */
export const CLOSED_ERROR: unique symbol = Symbol.for('steadyfn.connections.closedError.v2') as never;

/**
 * `handle[CUT_OFF](client)`: the invocation that used `client` (its ctx value) was cut off by its
 * deadline, maybe while an operation of the function's own hung on a silently dead socket. A
 * handle with a thaw check then checks `client` before its next use. Registered like `REUSE`;
 * the plugin's `onError` tells each handle of a `DEADLINE_EXCEEDED` invocation.
 */
export const CUT_OFF: unique symbol = Symbol.for('steadyfn.connections.cutOff.v1') as never;

/** What a handle's `[RUN_WITH]` is. */
export type RunWith<T> = <A, R>(fn: (client: T, arg: A) => R | Promise<R>, arg: A, options: RunOptions | undefined) => Promise<R>;

/** How one client was used during one invocation. */
export interface UseRecord {
  /** How the client was obtained when the invocation started. */
  state: AcquireState;
  /** Milliseconds since the client was last used, before this invocation; undefined when it is new. */
  idleMs: number | undefined;
  /** Clients built during this invocation after a failed check or a broken connection. */
  reconnects: number;
  /** Operations repeated once after a connection error. */
  retries: number;
}

/**
 * One invocation's use of the plugin's clients: the leases it started with, and records
 * made only when something happens later (a rebuild, a retry) or someone reads them.
 */
export class Uses {
  #records: UseRecord[] | undefined;
  constructor(
    readonly keys: ReadonlyArray<string>,
    readonly names: ReadonlyArray<string>,
    /** The clients the invocation started with, in the order of `keys`. */
    readonly leases: ReadonlyArray<Lease<unknown>>,
  ) {}

  get records(): UseRecord[] {
    return (this.#records ??= this.leases.map((l) => ({ state: l.state, idleMs: l.idleMs, reconnects: l.state === 'reconnected' ? 1 : 0, retries: 0 })));
  }

  /** Anything but plain reuse: a connect, a check, a rebuild or a retry. */
  notable(): boolean {
    if (!this.#records) {
      for (const lease of this.leases) if (lease.state !== 'reused') return true;
      return false;
    }
    return this.#records.some((r) => r.state !== 'reused' || r.reconnects > 0 || r.retries > 0);
  }

  /** The record as logged: `{ [ctx key]: UseRecord }`. */
  toJSON(): Record<string, UseRecord> {
    const out: Record<string, UseRecord> = {};
    this.keys.forEach((key, i) => (out[key] = { ...this.records[i]! }));
    return out;
  }

  find(name: string): UseRecord | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : this.records[i];
  }
}

// Kept on ctx under a private symbol, not in the plugin's state slot: handles add rebuilds and
// retries from inside the function, where only the running ctx (currentContext) is at hand.
// A property costs a fraction of a WeakMap entry on the warm path.
const USES = Symbol('steadyfn.connections.uses');
type WithUses = { [USES]?: Uses };

/** Starts the record of this invocation's client uses (what the connections log line reports). */
export function openUses(ctx: object, uses: Uses): void {
  (ctx as WithUses)[USES] = uses;
}

/** The record of this invocation's client uses, if the plugin opened one. */
export function usesOf(ctx: object): Uses | undefined {
  return (ctx as WithUses)[USES];
}

function currentRecord(name: string): UseRecord | undefined {
  const ctx = currentContext();
  return ctx && usesOf(ctx)?.find(name);
}

/** A client was rebuilt while the running invocation used it. */
export function noteReconnect(name: string): void {
  const record = currentRecord(name);
  if (record) record.reconnects++;
}

/** An operation was repeated once in the running invocation. */
export function noteRetry(name: string): void {
  const record = currentRecord(name);
  if (record) record.retries++;
}
