/**
 * Embedded mode, when the function returns: the events it added after the update that wrote
 * their document (`await updateOne(...); add(...)`). Nothing wrote them, but the state they
 * describe is committed, and a redelivery cannot help — its update is a duplicate by request
 * key and writes nothing — so failing the invocation would send the message to the DLQ with
 * its state written and its event lost. They are written instead by one more update of that
 * document (no operator of the author's), under the request key the function's next update of
 * the document would get (`<key>#k`): a retry numbers its updates the same way, so it finds
 * that key applied when the first attempt wrote the events, and writes them when it did not —
 * once, never twice. Events of a document no update of the invocation wrote stay staged: the
 * plugin refuses them (`checkNothingLeft`).
 */
import { isRequestAlreadyApplied } from '@steadyfn/idempotency';
import { aggregateKey, type PendingEvent } from '../envelope.js';
import { EventInvalidError } from '../errors.js';
import { embeddedUpdate, withStagedEvents } from './embedded-mode.js';
import type { InvocationState } from '../invocation.js';
import type { MongoEmbeddedOutboxStore } from '../stores/mongo-embedded.js';

/**
 * The request key the function's updates of document `id` were numbered from (the last one's,
 * when it gave several): given as `requestKey`, the next update gets `<base>#<count>`. Null when
 * none of them had a key (the write then has none either).
 */
function baseKeyOf(state: InvocationState, id: string): string | null {
  const keys = state.applied.get(id);
  if (!keys || keys.length === 0) return null;
  const last = keys[keys.length - 1]!;
  // The k-th key (k ≥ 1) of a document is `<base>#k` (requestKeyFor in embedded-mode.ts).
  return keys.length === 1 ? last : last.slice(0, last.length - `#${keys.length - 1}`.length);
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
      await prepare(filter, events);
      return embeddedUpdate(store, state, events, filter, {}, { requestKey: baseKeyOf(state, id) }).catch((error: unknown) => {
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
