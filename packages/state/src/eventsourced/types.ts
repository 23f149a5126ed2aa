/** The two stores event-sourced hydration reads: the newest snapshot, and the events after it. */

export interface Snapshot<S, P> {
  state: S;
  /** Position of the last event the snapshot includes. */
  position: P;
}

export interface SnapshotStore<S, P> {
  readonly description?: string;
  /** The newest snapshot, or undefined when there is none yet (replay from the start). */
  read(signal: AbortSignal): Promise<Snapshot<S, P> | undefined>;
}

export interface StoredEvent<E, P> {
  position: P;
  event: E;
}

export interface EventStore<E, P> {
  readonly description?: string;
  /**
   * Up to `limit` events with a position after `after` (all from the start when undefined),
   * in position order.
   */
  readAfter(after: P | undefined, limit: number, signal: AbortSignal): Promise<StoredEvent<E, P>[]>;
}
