/** The two stores event-sourced hydration reads: the newest snapshot, and the events after it. */

/** A saved state and the position of the last event it includes. */
export interface Snapshot<S, P> {
  /** The state as of `position`. */
  state: S;
  /** Position of the last event the snapshot includes. */
  position: P;
}

/** Reads the newest snapshot (`s3Snapshot`, `mongoSnapshot`, or your own). */
export interface SnapshotStore<S, P> {
  /** Names the store in errors and logs (no secrets). */
  readonly description?: string;
  /** The newest snapshot, or undefined when there is none yet (replay from the start). */
  read(signal: AbortSignal): Promise<Snapshot<S, P> | undefined>;
}

/** One event as an event store returns it. */
export interface StoredEvent<E, P> {
  /** Where it sits in the store's order (a stream id, a sequence number); the next read starts after it. */
  position: P;
  /** The event the reducer applies. */
  event: E;
}

/** Reads events in position order (`redisStreamEvents`, `mongoEvents`, or your own). */
export interface EventStore<E, P> {
  /** Names the store in errors and logs (no secrets). */
  readonly description?: string;
  /**
   * Up to `limit` events with a position strictly after `after` (all from the start when
   * undefined), in position order. Hydration checks the positions: a missing one, one equal to
   * the one before (or to `after`), one of another kind, or a number or Date not greater fails
   * the load. Return the events (a new array is fine): `mongoEvents` and `redisStreamEvents` mark
   * a page read after a position whose event is gone with a non-enumerable tag only they set.
   */
  readAfter(after: P | undefined, limit: number, signal: AbortSignal): Promise<StoredEvent<E, P>[]>;
}
