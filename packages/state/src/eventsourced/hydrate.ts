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
import { checkNextPosition, describePosition, isGone, laterPosition, samePosition } from './positions.js';
import { SNAPSHOT_IF_CHANGED, type SnapshotIfChanged } from './snapshots.js';
import type { EventStore, Snapshot, SnapshotStore } from './types.js';

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
   * More events than this after the snapshot (on a revalidation, after the last one applied) is
   * a load failure (write snapshots more often). Reads ask for at most one event past it, and the
   * reducer sees none past it.
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
 * and applied. Use it under `defineState({ sources })` like any other source. When the event
 * applied last is no longer in the store (`mongoEvents`: archived, the collection emptied;
 * `redisStreamEvents`: the key gone), revalidation judges it against the snapshot: at that
 * position, only the later events are applied; newer, the state is loaded from it; otherwise it
 * fails (events applied were removed), so the next try loads in full, as a cold start would.
 * `mongoEvents` and `redisStreamEvents` tell "gone" by a non-enumerable tag on the array
 * `readAfter` returns (still the events); a store of yours wrapping one returns a new array and is
 * read without this comparison. While the snapshot's own event stays archived and nothing is
 * appended, each revalidation reads the snapshot again (`s3Snapshot`: a conditional GET by its
 * ETag once confirmed at that position — a 304 without body until it changes; `mongoSnapshot`:
 * the newest document's `_id` and position alone, the state only once they change).
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

  // Each read asks for at most one event past `maxEvents`: enough to tell "more", never a page more.
  const firstLimit = Math.min(pageSize, maxEvents + 1);

  /**
   * Applies `first` (already read, asked for `firstLimit`) and then every later page.
   * @param from - Where the read started, in words for the `maxEvents` message.
   */
  const replay = async (state: S, position: P | undefined, first: ReadonlyArray<{ position: P; event: E }>, signal: AbortSignal, from: string): Promise<Loaded<S>> => {
    let page = first;
    let asked = firstLimit;
    let applied = 0;
    for (;;) {
      if (page.length > asked) throw new SourceError(`the event store returned more than the ${asked} events asked for one page`);
      // Refused before the reducer sees any event of a page that goes past the bound.
      if (applied + page.length > maxEvents) throw new SourceError(`more than ${maxEvents} events after ${from} (raise maxEvents or write snapshots more often)`);
      for (const [i, stored] of page.entries()) {
        // Kinds are compared between events; the snapshot's (or the cached) position only when of one kind.
        checkNextPosition(position, stored.position, i === 0, i > 0 || applied > 0);
        try {
          state = reducer(state, stored.event);
        } catch (error) {
          throw new SourceError(`the reducer failed at event position ${describePosition(stored.position)}: ${describeFailure(error)}`);
        }
        position = stored.position;
      }
      applied += page.length;
      if (page.length < asked) break;
      if (signal.aborted) throw abortReason(signal);
      asked = Math.min(pageSize, maxEvents + 1 - applied);
      page = await events.readAfter(position, asked, signal);
      // The event just applied was removed while this replay read on (archived up to it).
      if (isGone(page)) throw new SourceError(`the event at position ${describePosition(position)}, just applied, is no longer in the store: removed while the state was read (archived up to it?)`);
    }
    const version: HydratedVersion<P> = { position };
    return { value: state, version };
  };

  const load = async (signal: AbortSignal): Promise<Loaded<S>> => {
    const snap = options.snapshot ? await options.snapshot.read(signal) : undefined;
    if (snap !== undefined && snap.position === undefined) throw new SourceError('the snapshot has no position');
    const position = snap?.position;
    if (signal.aborted) throw abortReason(signal);
    // A page marked gone (the snapshot's own event archived, or no event at all) is read as it is.
    const first = await events.readAfter(position, firstLimit, signal);
    return replay(snap ? snap.state : options.initial(), position, first, signal, snap ? 'the snapshot' : 'the start');
  };

  // The snapshot's tag (s3Snapshot: its ETag; mongoSnapshot: its _id and position) when it was
  // found at the position applied last: while that position's event stays archived, it is read
  // again only if it changed.
  let confirmed: { position: P | undefined; tag: unknown } | undefined;

  /** The snapshot (`unchanged`: the one confirmed at `position` before, not read again), and the tag it was read with. */
  const snapshotAgain = async (position: P | undefined, signal: AbortSignal): Promise<{ snap: Snapshot<S, P> | undefined; unchanged?: true; tag?: unknown }> => {
    const store = options.snapshot;
    if (store === undefined) return { snap: undefined };
    const ifChanged = (store as { [SNAPSHOT_IF_CHANGED]?: SnapshotIfChanged<S, P> })[SNAPSHOT_IF_CHANGED];
    if (typeof ifChanged !== 'function') return { snap: await store.read(signal) };
    const known = confirmed !== undefined && samePosition(confirmed.position, position) ? confirmed.tag : undefined;
    const result = await ifChanged.call(store, known, signal);
    if (result === 'unchanged') return { snap: { position: position as P, state: undefined as S }, unchanged: true };
    return result.tag !== undefined ? { snap: result.snapshot, tag: result.tag } : { snap: result.snapshot };
  };

  /**
   * The event at `position`, applied last, is no longer in the store (`page`: the events after
   * it, none when the store holds none at all). The snapshot tells an archive from a loss: at
   * `position` (every event archived up to it, its own included), the page is all that is new;
   * newer (events archived up to a snapshot written since), the state is loaded from it;
   * otherwise events this instance applied are gone — archived past the snapshot, the store
   * emptied or restored from an older backup — and a cold start would load another state: it
   * fails, as a store behind the position does, and the next try loads in full.
   */
  const afterEventsGone = async (known: unknown, position: P | undefined, page: ReadonlyArray<{ position: P; event: E }>, signal: AbortSignal): Promise<Loaded<S> | 'unchanged'> => {
    const { snap, unchanged, tag } = await snapshotAgain(position, signal);
    if (snap !== undefined && snap.position === undefined) throw new SourceError('the snapshot has no position');
    if (snap !== undefined) {
      if (unchanged || samePosition(snap.position, position)) {
        if (tag !== undefined) confirmed = { position, tag };
        return page.length === 0 ? 'unchanged' : replay(copyForUpdate(known as S), position, page, signal, 'the snapshot');
      }
      if (laterPosition(snap.position, position)) return replay(snap.state, snap.position, await events.readAfter(snap.position, firstLimit, signal), signal, 'the snapshot');
    }
    const where = snap === undefined ? 'there is no snapshot' : `the snapshot is at position ${describePosition(snap.position)}`;
    const next = page.length === 0 ? 'nor any other event' : `the next is at position ${describePosition(page[0]!.position)}`;
    throw new SourceError(
      `the event at position ${describePosition(position)}, the last the cached state includes, is no longer in the store (${next}), and ${where}: events this instance applied were removed (${snap === undefined ? 'archived' : 'archived past the snapshot'}, the store emptied or restored from an older backup), so the state is loaded in full`,
    );
  };

  return {
    description,
    load,
    async revalidate(known, signal) {
      const { position } = known.version as HydratedVersion<P>;
      const first = await events.readAfter(position, firstLimit, signal);
      // Marked by mongoEvents / redisStreamEvents only (a store wrapping one returns a new array).
      if (isGone(first)) return afterEventsGone(known.value, position, first, signal);
      if (first.length === 0) return 'unchanged';
      // The cached state is frozen (and shared with running invocations): fold into a copy that
      // keeps BSON values and other class instances as they are (structuredClone would not).
      return replay(copyForUpdate(known.value), position, first, signal, `the last position applied (${describePosition(position)})`);
    },
  };
}
