/**
 * The one small interface every source implements, and the shapes around it.
 */

/** What a source returns: the value, and a version that identifies it cheaply (an ETag, a counter). */
export interface Loaded<T> {
  /** The source's value, before the schema (it is frozen once the state is built). */
  value: T;
  /**
   * Identifies this value so a later `revalidate` can ask "still the same?" in one round trip.
   * Undefined: the source cannot revalidate and is loaded again in full when the state is stale.
   */
  version?: unknown;
}

/** The value and version the cache holds for a source, handed back to `revalidate`. */
export interface Known<T> {
  /** The value the state holds for this source (its raw value, before the schema). */
  value: T;
  /** The version its last load or revalidation returned. */
  version: unknown;
}

/**
 * One declared source of state. Plain objects: implement `load`, and `revalidate` when the
 * store can answer "unchanged?" cheaply.
 */
export interface StateSource<T = unknown> {
  /** Where the value comes from, for error messages (e.g. `s3://bucket/key`); never a value. */
  readonly description?: string;
  /** Loads the full value. Must stop (reject) when `signal` aborts. */
  load(signal: AbortSignal): Promise<Loaded<T>>;
  /**
   * One round trip: `'unchanged'` when the store still holds `known.version`, otherwise the
   * new value and version. Called only when the last load returned a version.
   */
  revalidate?(known: Known<T>, signal: AbortSignal): Promise<'unchanged' | Loaded<T>>;
}

/** The value type a source produces. */
export type SourceValue<S> = S extends StateSource<infer T> ? T : never;

/**
 * A client instance, or a function returning one (or a promise of one), e.g. a connections
 * handle's `get`. The Redis sources (`redisKey`, `redisHash`, `redisStreamEvents`) call it at each
 * read with `{ signal }`, the load's signal: it aborts when the load is given up (its time bound,
 * or every waiting invocation gone) — an ioredis command cannot be withdrawn — so
 * `client: (o) => handle.get(o)` (or `client: handle.get`) lets the handle check a client whose
 * command was left unanswered (a silently dead socket) before its next use. Others call it with `{}`.
 * @example
 * redisHash({ client: (o) => redisHandle.get(o), key: 'flags' })
 */
export type ClientInput<C> = C | ((options: { signal?: AbortSignal }) => C | Promise<C>);

type Primitive = string | number | bigint | boolean | symbol | null | undefined;

/** The read-only view of a state: plain objects and arrays are frozen all the way down. */
export type DeepReadonly<T> = T extends Primitive | ((...args: any[]) => unknown)
  ? T
  : T extends Date | RegExp | Uint8Array | Map<any, any> | Set<any>
    ? T
    : T extends ReadonlyArray<infer U>
      ? ReadonlyArray<DeepReadonly<U>>
      : { readonly [K in keyof T]: DeepReadonly<T[K]> };
