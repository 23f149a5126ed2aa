/**
 * Embedded mode of the plugin: `ctx.outbox.updateOne(filter, update)` writes the author's
 * single-document update together with the events added so far (which must belong to that
 * document's aggregate) and the request key that makes it exactly-once.
 */
import { embeddedWrite, type EmbeddedResult } from '../capture/mongo-embedded.js';
import { aggregateKey, type EventDeclarations } from '../envelope.js';
import { EventInvalidError } from '../errors.js';
import { defaultRequestKey } from './request-key.js';
import type { InvocationState, OutboxContextBase } from '../plugin.js';
import type { MongoEmbeddedOutboxStore } from '../stores/mongo-embedded.js';

/** Options of one embedded update. */
export interface EmbeddedUpdateOptions {
  /** Create the document when the filter matches none. */
  upsert?: boolean;
  /**
   * The key that makes this update exactly-once: when the document already applied it,
   * nothing is written and `duplicate` is true. Default: the inbox's key when consuming an
   * outbox event, else the invocation's delivery id (queue, event, schedule), else the
   * HTTP `Idempotency-Key` header; none for a plain HTTP request without one.
   */
  requestKey?: string | null;
}

/** `ctx.outbox` with a MongoDB embedded store. */
export interface EmbeddedOutboxContext<D extends EventDeclarations> extends OutboxContextBase<D> {
  /**
   * Applies `update` to the one document `filter` names by `_id`, with the events added so
   * far, in one update. `matched: false` when the filter no longer matches (nothing written).
   *
   * @throws OutboxFullError when the document's pending events would pass a cap.
   * @throws WriteConflictError when concurrent writers kept moving the document (retryable).
   * @example await ctx.outbox.updateOne({ _id: 'o-42', status: 'validated' }, { $set: { status: 'paid' } })
   */
  updateOne(filter: Record<string, unknown>, update: Record<string, unknown>, options?: EmbeddedUpdateOptions): Promise<EmbeddedResult>;
  /** Reads one aggregate's document without its `_outbox*` fields; null when there is none. */
  read(id: string): Promise<Record<string, unknown> | null>;
}

/** Runs one embedded update for the invocation. */
export async function embeddedUpdate(store: MongoEmbeddedOutboxStore, state: InvocationState, filter: Record<string, unknown>, update: Record<string, unknown>, options: EmbeddedUpdateOptions = {}): Promise<EmbeddedResult> {
  const requestKey = options.requestKey === null ? undefined : (options.requestKey ?? defaultRequestKey(state.ctx));
  const events = state.events;
  const result = await embeddedWrite(await store.collection(), store.aggregateType, { filter, update, upsert: options.upsert, requestKey }, events, store.limits, await store.serialisation(), state.ctx.signal);
  if (result.matched) {
    // Written, or already written by an earlier attempt: either way these events are recorded.
    state.events = [];
    state.metrics.recorded += result.events.length;
    const aggregate = aggregateKey(store.aggregateType, String(filter._id));
    if (!state.written.some((r) => r.aggregate === aggregate)) state.written.push({ where: (await store.collection()).collectionName, aggregate, since: Date.now() });
  }
  return result;
}

/** Events added but never written by an `updateOne` are a bug in the function: fail loudly. */
export function checkNothingLeft(state: InvocationState): void {
  if (state.events.length > 0) {
    throw new EventInvalidError(`outbox: ${state.events.length} event(s) were added but no ctx.outbox.updateOne wrote them (embedded mode writes events with the document update)`);
  }
}

/** Reads a document without the outbox's fields. */
export async function embeddedRead(store: MongoEmbeddedOutboxStore, id: string): Promise<Record<string, unknown> | null> {
  const doc = (await (await store.collection()).findOne({ _id: id })) as Record<string, unknown> | null;
  if (!doc) return null;
  for (const key of Object.keys(doc)) if (key.startsWith('_outbox')) delete doc[key];
  return doc;
}
