/**
 * Embedded mode, when the function returns: the events it added after the update that wrote
 * their document (`await updateOne(...); add(...)`). Nothing wrote them, but the state they
 * describe is committed, and a redelivery cannot help — its update is a duplicate by request
 * key and writes nothing — so failing the invocation would send the message to the DLQ with
 * its state written and its event lost. They are written instead by one more update of that
 * document (no operator of the author's), under the request key the function's next update of
 * the document would get (`<key>#k`, every call under that key counted): a retry numbers its updates the same way, so it finds
 * that key applied when the first attempt wrote the events, and writes them when it did not —
 * once, never twice. Events of a document no update of the invocation wrote stay staged: the
 * plugin refuses them (`checkNothingLeft`). Then the keys of the updates that matched nothing
 * are kept in their documents (`embeddedRecordMisses`).
 */
import { isRequestAlreadyApplied } from '@steadyfn/idempotency';
import { aggregateKey, type PendingEvent } from '../envelope.js';
import { EventInvalidError } from '../errors.js';
import { recordMiss } from '../capture/mongo-embedded-misses.js';
import { embeddedUpdate, nextRequestKey, withStagedEvents } from './embedded-mode.js';
import type { InvocationState } from '../invocation.js';
import type { MongoEmbeddedOutboxStore } from '../stores/mongo-embedded.js';

/**
 * The request key the function's last update of document `id` that wrote was numbered from;
 * given as `requestKey`, this write takes the next number of the document's calls, `<base>#k`
 * (`nextRequestKey`: every call under that base counts, whatever its outcome, so a redelivery gets the same k).
 * Null when that update had no key (the write then has none either).
 */
function baseKeyOf(state: InvocationState, id: string): string | null {
  return state.calls.get(id)?.base ?? null;
}

/**
 * Writes the staged events of each document an update of this invocation already wrote, with
 * one more update of it. `prepare` runs before each write with the document's filter and the
 * events it writes (the plugin's checks, lease judge and watchdog, as before the function's own
 * updates).
 *
 * @throws EventInvalidError when the document no longer exists (deleted since the update): the
 *   events cannot be written with it.
 */
export async function embeddedWriteLeftovers(store: MongoEmbeddedOutboxStore, state: InvocationState, prepare: (filter: { _id: string }, events: ReadonlyArray<PendingEvent>) => Promise<void>): Promise<void> {
  if (state.events.length === 0) return;
  const where = (await store.collection()).collectionName;
  const updated = new Set(state.written.filter((r) => r.where === where).map((r) => r.aggregate));
  const ids = [...new Set(state.events.filter((e) => updated.has(aggregateKey(e.aggregateType, e.aggregateId))).map((e) => e.aggregateId))];
  for (const id of ids) {
    const filter = { _id: id };
    const result = await withStagedEvents(state, store.aggregateType, filter, async (staged) => {
      const events = staged.filter((e) => e.aggregateType === store.aggregateType && e.aggregateId === id);
      const call = nextRequestKey(state, id, baseKeyOf(state, id));
      await prepare(filter, events);
      return embeddedUpdate(store, state, events, filter, {}, undefined, call).catch((error: unknown) => {
        // An earlier attempt wrote them and recorded its answer: replayed after the flush, as the plugin does.
        if (!isRequestAlreadyApplied(error)) throw error;
        state.replay = error;
        return undefined;
      });
    });
    if (result && !result.matched) {
      throw new EventInvalidError(`outbox: event(s) added after the update of ${aggregateKey(store.aggregateType, id)} could not be written: its document no longer exists; add events before the update that writes them`, {
        issues: [{ field: 'events', message: 'their document was gone when the function returned' }],
      });
    }
  }
}

/**
 * After the function returned: keeps each request key of its updates that matched nothing in
 * its document (`recordMiss`), so a redelivery answers them `matched: false` again. Best effort,
 * like the answers: a failure is logged, and a redelivery then checks those filters again (the
 * numbering of the later updates does not depend on it).
 */
export async function embeddedRecordMisses(store: MongoEmbeddedOutboxStore, state: InvocationState): Promise<void> {
  if (state.missed.size === 0) return;
  const collection = await store.collection();
  const serialisation = await store.serialisation();
  for (const [id, keys] of state.missed) {
    for (const key of keys) {
      await recordMiss(collection, id, key, store.limits.maxAppliedKeys, serialisation, state.ctx.signal).catch((error: unknown) => {
        state.ctx.log.warn('outbox could not keep that an update matched nothing; a redelivery checks its filter again', { cause: error instanceof Error ? error.name : typeof error });
      });
    }
  }
}
