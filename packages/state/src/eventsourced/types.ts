/** The two stores event-sourced hydration reads: the newest snapshot, and the events after it. */

export interface Snapshot<S, P> {
  state: S;
  /** Position of the last event the snapshot includes. */
  position: P;
}

/** Where `hydrate()` reads the newest snapshot: `s3Snapshot()`, `mongoSnapshot()` or your own. */
export interface SnapshotStore<S, P> {
  readonly description?: string;
  /** The newest snapshot, or undefined when there is none yet (replay from the start). */
  read(signal: AbortSignal): Promise<Snapshot<S, P> | undefined>;
}

/** One event as an event store returns it, with its position in that store's terms. */
export interface StoredEvent<E, P> {
  position: P;
  event: E;
}

/** Where `hydrate()` reads the events after a position: `mongoEvents()`, `redisStreamEvents()` or your own. */
export interface EventStore<E, P> {
  readonly description?: string;
  /**
   * Up to `limit` events with a position after `after` (all from the start when undefined),
   * in position order.
   */
  readAfter(after: P | undefined, limit: number, signal: AbortSignal): Promise<StoredEvent<E, P>[]>;
}
