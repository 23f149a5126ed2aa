/**
 * Event-sourced hydration: the newest snapshot, then every event recorded after its position,
 * folded through a reducer. As a state source, revalidation reads only the events after the
 * last one applied: none (one round trip) means unchanged.
 */
import { checkKnownKeys, intOption, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { SourceError, describeFailure } from '../errors.js';
import type { Loaded, StateSource } from '../types.js';
import { functionOption } from '../options.js';
import { abortReason, copyForUpdate } from '../util.js';
import { checkNextPosition } from './positions.js';
import type { EventStore, SnapshotStore } from './types.js';

/** Options of `hydrate()`. */
export interface HydrateOptions<S, E, P> {
  /** Where the newest snapshot is; without one, every event is replayed from `initial()`. */
  snapshot?: SnapshotStore<S, P>;
  /** Where the events after the snapshot are read from. */
  events: EventStore<E, P>;
  /** The state before the first event (used when there is no snapshot yet). */
  initial: () => S;
  /**
   * The next state from a state and one event. It may change the state it is given: on
   * revalidation it gets a copy of the cached state, never the frozen one: plain objects,
   * arrays, Maps, Sets and Dates are copied; other class instances (ObjectId, Long, your own
   * classes) are the same instances — replace them rather than change them in place.
   */
  reducer: (state: S, event: E) => S;
  /**
   * Events read per round trip.
   * @default 1000
   */
  pageSize?: number;
  /**
   * More events than this after the snapshot is a load failure (write snapshots more often).
   * @default 1000000
   */
  maxEvents?: number;
}

/** What hydration records as the source's version: the position of the last event applied. */
export interface HydratedVersion<P> {
  /** The store's position of the last event applied (`undefined`: none yet, the state is `initial()` or the snapshot's). */
  position: P | undefined;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const HYDRATE_KEYS = keysOf<HydrateOptions<unknown, unknown, unknown>>({ snapshot: true, events: true, initial: true, reducer: true, pageSize: true, maxEvents: true });

/**
 * A state source rebuilt from history: the newest snapshot (or `initial()`), then every later
 * event through `reducer`. On revalidation only the events after the cached position are read
 * and applied. Use it under `defineState({ sources })` like any other source.
 * @throws ConfigurationError (`CONFIG_INVALID`) for a bad `pageSize` or `maxEvents`, a `snapshot` or
 *   `events` that is not a store, or an `initial` or `reducer` that is not a function.
 * @example
 * const cart = hydrate({ events: redisStreamEvents({ client: redis, key: 'cart:42' }), initial: () => ({ items: 0 }), reducer: (s, e: { add: number }) => ({ items: s.items + e.add }) });
 */
export function hydrate<S, E, P>(options: HydrateOptions<S, E, P>): StateSource<S> {
  checkKnownKeys('hydrate', '', options, HYDRATE_KEYS);
  const pageSize = intOption('hydrate', 'pageSize', options.pageSize, 1_000, 1);
  const maxEvents = intOption('hydrate', 'maxEvents', options.maxEvents, 1_000_000, 1);
  if (options.snapshot !== undefined && typeof (options.snapshot as Partial<SnapshotStore<S, P>> | null)?.read !== 'function') {
    invalidOption('hydrate', 'snapshot', 'a snapshot store (s3Snapshot(), mongoSnapshot(), or an object with read(signal))', options.snapshot);
  }
  if (typeof (options.events as Partial<EventStore<E, P>> | null)?.readAfter !== 'function') {
    invalidOption('hydrate', 'events', 'an event store (mongoEvents(), redisStreamEvents(), or an object with readAfter(after, limit, signal))', options.events);
  }
  functionOption('hydrate', 'initial', options.initial, 'a function () => the state before the first event', true);
  functionOption('hydrate', 'reducer', options.reducer, 'a function (state, event) => next state', true);
  const { events, reducer } = options;
  const description = [options.snapshot?.description, events.description].filter(Boolean).join(' + ') || 'event-sourced state';

  /** Applies `first` (already read) and then every later page. */
  const replay = async (state: S, position: P | undefined, first: ReadonlyArray<{ position: P; event: E }>, signal: AbortSignal): Promise<Loaded<S>> => {
    let page = first;
    let applied = 0;
    for (;;) {
      if (page.length > pageSize) throw new SourceError(`the event store returned more than ${pageSize} events for one page`);
      for (const [i, stored] of page.entries()) {
        // Kinds are compared between events; the snapshot's (or the cached) position only when of one kind.
        checkNextPosition(position, stored.position, i === 0, i > 0 || applied > 0);
        try {
          state = reducer(state, stored.event);
        } catch (error) {
          throw new SourceError(`the reducer failed at event position ${String(stored.position)}: ${describeFailure(error)}`);
        }
        position = stored.position;
      }
      applied += page.length;
      if (page.length < pageSize) break;
      if (applied >= maxEvents) throw new SourceError(`more than ${maxEvents} events after the snapshot (raise maxEvents or write snapshots more often)`);
      if (signal.aborted) throw abortReason(signal);
      page = await events.readAfter(position, pageSize, signal);
    }
    const version: HydratedVersion<P> = { position };
    return { value: state, version };
  };

  return {
    description,
    async load(signal) {
      const snap = options.snapshot ? await options.snapshot.read(signal) : undefined;
      if (snap !== undefined && snap.position === undefined) throw new SourceError('the snapshot has no position');
      const position = snap?.position;
      if (signal.aborted) throw abortReason(signal);
      const first = await events.readAfter(position, pageSize, signal);
      return replay(snap ? snap.state : options.initial(), position, first, signal);
    },
    async revalidate(known, signal) {
      const { position } = known.version as HydratedVersion<P>;
      const first = await events.readAfter(position, pageSize, signal);
      if (first.length === 0) return 'unchanged';
      // The cached state is frozen (and shared with running invocations): fold into a copy that
      // keeps BSON values and other class instances as they are (structuredClone would not).
      return replay(copyForUpdate(known.value), position, first, signal);
    },
  };
}
