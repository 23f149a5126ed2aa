/**
 * Embedded mode of the plugin: `ctx.outbox.updateOne(filter, update)` writes the author's
 * single-document update together with the events added so far (which must belong to that
 * document's aggregate) and the request key that makes it exactly-once.
 *
 * With an idempotency plugin (no transactions here, and its record lives elsewhere): the
 * request key is the idempotency record's key; when the function returns, its answer is kept
 * in the document beside the key. A retry of the request whose update finds the key applied
 * with an answer stops there (`RequestAlreadyAppliedError`): the idempotency plugin completes
 * its record with that answer and replays it, instead of the function going on.
 */
import { isRecord, keysOf } from '@steadyfn/handler/internal';
import { heldIdempotencyKey, pendingCompletion, RequestAlreadyAppliedError } from '@steadyfn/idempotency';
import { embeddedWrite, recordAnswer, type EmbeddedResult } from '../capture/mongo-embedded.js';
import { aggregateKey, type EventDeclarations, type PendingEvent } from '../envelope.js';
import { EventInvalidError, OutboxUnavailableError } from '../errors.js';
import { defaultRequestKey } from './request-key.js';
import type { InvocationState } from '../invocation.js';
import type { OutboxContextBase } from '../plugin.js';
import type { MongoEmbeddedOutboxStore } from '../stores/mongo-embedded.js';
import { isOutboxField } from '../stores/mongo-shapes.js';

/** Options of one embedded update. */
export interface EmbeddedUpdateOptions {
  /** Create the document when the filter matches none. */
  upsert?: boolean;
  /**
   * The key that makes this update exactly-once: when the document already applied it,
   * nothing is written and `duplicate` is true. Default: the inbox's key when consuming an
   * outbox event, else the record key of the `idempotency()` plugin holding the request, else
   * the invocation's delivery id (queue, event, schedule), else the HTTP `Idempotency-Key`
   * header; none (`null`, or a plain HTTP request without any of these). Each call of
   * `updateOne` on one document in a run of the function under one key takes that key's next
   * number, whatever its outcome (written, a duplicate, `matched: false`, thrown): the first
   * uses `<key>`, the k-th after it `<key>#k`, so a redelivery that makes the same calls gives
   * each the key it had. Calls under other keys do not count: a given key is `<key>` on its
   * first call whatever ran before it.
   */
  requestKey?: string | null;
}

/** `ctx.outbox` with a MongoDB embedded store. */
export interface EmbeddedOutboxContext<D extends EventDeclarations> extends OutboxContextBase<D> {
  /**
   * Applies `update` to the one document `filter` names by `_id`, with the events added so
   * far, in one update. `matched: false` when the filter no longer matches (nothing written).
   * An update that matches nothing or throws takes back the events it was given (as a lost
   * `ctx.transition` does): no later update writes them, and the function may answer from
   * `matched: false`. Add an event before the update that writes it; one added after the
   * update that wrote its document is written when the function returns, by one more update
   * of that document under its own request key (`<key>#k`). When the function returns, the
   * request key of each update that matched nothing is kept in its document (when it exists):
   * a redelivery's update under that key answers `matched: false` again without checking its
   * filter, as one that matched answers `duplicate: true` (a run that failed keeps nothing of
   * its misses: its retry checks their filters again).
   *
   * @throws OutboxFullError when the document's pending events would pass a cap.
   * @throws WriteConflictError when concurrent writers kept moving the document (retryable).
   * @example await ctx.outbox.updateOne({ _id: 'o-42', status: 'validated' }, { $set: { status: 'paid' } })
   */
  updateOne(filter: Record<string, unknown>, update: Record<string, unknown>, options?: EmbeddedUpdateOptions): Promise<EmbeddedResult>;
  /** Reads one aggregate's document without the outbox's fields (`_outbox`, `_outboxSeq`, …; not the author's `_outboxedAt`); null when there is none. */
  read(id: string): Promise<Record<string, unknown> | null>;
}

/** One call's request key (undefined: none) and the key it is numbered from. */
export interface CallKey {
  key: string | undefined;
  base: string | undefined;
}

/**
 * Numbers one call of `updateOne` on document `id` in this run of the function, per request key
 * it is numbered from (its base): each call of a base takes that base's next number, whatever
 * its outcome — the first `<base>`, the k-th after it `<base>#k` — so a redelivery making the
 * same calls gives each the key it had (numbering by the updates that matched shifted every
 * later key after a call that matched nothing or threw), and a caller's own `requestKey` is
 * numbered only by the calls made under it: `'pay-42'` stays `'pay-42'` whatever calls of
 * other keys ran before it on the document. Call it before anything is awaited, so calls
 * started together are numbered in the order made. `given`: the call's `requestKey` option
 * (`null`: none; undefined: the invocation's key).
 */
export function nextRequestKey(state: InvocationState, id: string, given: string | null | undefined): CallKey {
  const base = given === null ? undefined : (given ?? defaultRequestKey(state.ctx));
  if (base === undefined) return { key: undefined, base };
  const calls = state.calls.get(id) ?? { counts: new Map<string, number>(), base: undefined };
  state.calls.set(id, calls);
  const k = calls.counts.get(base) ?? 0;
  calls.counts.set(base, k + 1);
  return { key: k === 0 ? base : `${base}#${k}`, base };
}

/**
 * The driver's errors for a server it cannot reach (by class name: no driver import here). Only
 * these become `OUTBOX_STORE_UNAVAILABLE` (503, retryable); a server refusing the update itself
 * keeps its error.
 */
function unreachable(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^Mongo(ServerSelection|Network|NetworkTimeout|TopologyClosed|PoolCleared)Error$/.test(name);
}

/**
 * What a failure before or during an embedded write is reported as: a server that could not be
 * reached is the retryable `OutboxUnavailableError` (`OUTBOX_UNAVAILABLE`), anything else itself.
 */
export function writeFailure(error: unknown): unknown {
  return unreachable(error) ? new OutboxUnavailableError('outbox: the MongoDB server could not be reached; nothing was written', error) : error;
}

const UPDATE_OPTIONS = keysOf<EmbeddedUpdateOptions>({ upsert: true, requestKey: true });

function invalidArgument(field: string, expected: string): never {
  throw new EventInvalidError(`outbox: ctx.outbox.updateOne: ${field} must be ${expected}; nothing was written`, { issues: [{ field, message: `must be ${expected}`, expected }] });
}

/**
 * What `updateOne` takes, checked before anything is read or written: a wrong argument is a
 * bug in the function — terminal, naming it — not a `TypeError` deep in the write (a
 * retryable `INTERNAL` a queue would redeliver), and an option typo (`upsrt`) is not silently
 * "no upsert". A key holding `undefined` passes, as in every options object of the package.
 * Called before the watchdog is armed: a refused call sends nothing either.
 *
 * @throws EventInvalidError naming the argument (`filter`, `update` — also an update of no
 *   operator, `{}` —, `options`, `options.<key>`).
 */
export function checkUpdateArguments(filter: unknown, update: unknown, options: unknown): void {
  if (!isRecord(filter)) invalidArgument('filter', 'an object naming the document by its _id, e.g. { _id: orderId }');
  if (!isRecord(update)) invalidArgument('update', 'an object of update operators, e.g. { $set: { status: "paid" } }');
  // The driver refuses an update without an operator (a retryable INTERNAL, and only when the
  // outbox adds nothing to it): refused always, here. An operator of no field ({ $set: {} }) is
  // what the servers take as "no change": it stays, the way to write only the events.
  if (Object.keys(update).length === 0) invalidArgument('update', 'at least one update operator, e.g. { $set: { status: "paid" } } (to write only the events, { $set: {} })');
  if (!isRecord(options)) invalidArgument('options', 'an object { upsert?, requestKey? } or left out');
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!UPDATE_OPTIONS.includes(key)) invalidArgument(`options.${key}`, `left out: it is not an option of updateOne (the options are ${UPDATE_OPTIONS.join(', ')})`);
    if (key === 'upsert' && typeof value !== 'boolean') invalidArgument('options.upsert', 'a boolean');
    if (key === 'requestKey' && value !== null && (typeof value !== 'string' || value === '')) invalidArgument('options.requestKey', 'a non-empty string, or null for none');
  }
}

/**
 * Runs one `updateOne` of the function with the events staged when it was called (a snapshot:
 * what is added while it runs waits for a later update) and takes them out of the staged list
 * however it ends: written, or written already by an earlier attempt, when it matched; taken
 * back when it matched nothing or threw — else a later update of the aggregate would write
 * events of a change that never happened, and the invocation's end would refuse them as never
 * written. Only the document's own events are taken out: another aggregate's (which the write
 * refuses) still wait for their own update.
 */
export async function withStagedEvents<T>(state: InvocationState, aggregateType: string, filter: unknown, run: (given: PendingEvent[]) => Promise<T>): Promise<T> {
  const given = [...state.events];
  try {
    return await run(given);
  } finally {
    const id = isRecord(filter) ? String(filter._id) : undefined;
    for (const event of given) {
      if (event.aggregateType !== aggregateType || event.aggregateId !== id) continue;
      // In place: `ctx.outbox.staged` is this list.
      const at = state.events.indexOf(event);
      if (at >= 0) state.events.splice(at, 1);
    }
  }
}

/**
 * Runs one embedded update for the invocation, with `events` (what {@link withStagedEvents}
 * gave it; it also takes them out of the staged list), under the request key
 * {@link nextRequestKey} gave the call.
 *
 * @throws RequestAlreadyAppliedError when an earlier attempt of the idempotency plugin's request applied this update and recorded its answer.
 */
export async function embeddedUpdate(
  store: MongoEmbeddedOutboxStore,
  state: InvocationState,
  events: ReadonlyArray<PendingEvent>,
  filter: Record<string, unknown>,
  update: Record<string, unknown>,
  upsert: boolean | undefined,
  call: CallKey,
): Promise<EmbeddedResult> {
  const id = String(filter._id);
  const requestKey = call.key;
  const result = await embeddedWrite(await store.collection(), store.aggregateType, { filter, update, upsert, requestKey }, events, store.limits, await store.serialisation(), state.ctx.signal, await store.registry()).catch(
    (error: unknown) => {
      throw writeFailure(error);
    },
  );
  if (requestKey !== undefined) {
    const outcome = result.matched ? state.applied : state.missed;
    outcome.set(id, [...(outcome.get(id) ?? []), requestKey]);
    // The events added after this update are written under this base's next number (embedded-leftovers.ts).
    const calls = state.calls.get(id);
    if (result.matched && calls) calls.base = call.base;
  }
  if (result.matched) {
    state.metrics.recorded += result.events.length;
    const aggregate = aggregateKey(store.aggregateType, String(filter._id));
    if (!state.written.some((r) => r.aggregate === aggregate)) state.written.push({ where: (await store.collection()).collectionName, aggregate, since: Date.now() });
  }
  // The first attempt's events (flushed by the plugin's onError) and answer: the idempotency plugin replays it.
  if (result.duplicate && result.answer !== undefined && heldIdempotencyKey(state.ctx) !== undefined) throw new RequestAlreadyAppliedError(result.answer);
  return result;
}

/**
 * After the function returned: keeps its answer beside each request key its updates applied,
 * when an idempotency plugin holds the request, so a retry replays it. Best effort (the
 * effects are written): a failure is logged and the retry then runs the function again, whose
 * updates write nothing twice.
 */
export async function embeddedRecordAnswers(store: MongoEmbeddedOutboxStore, state: InvocationState, result: unknown): Promise<void> {
  // An earlier attempt's answer is replayed (`state.replay`): this attempt's is not kept over it.
  if (state.applied.size === 0 || state.replay) return;
  const completion = pendingCompletion(state.ctx, result);
  // Never joined: the updates are written, the plugin completes the record itself (with the
  // function's result also when a plugin fails after this write).
  completion?.notJoined();
  if (!completion || Buffer.byteLength(completion.answer, 'utf8') > store.limits.maxAnswerBytes) return;
  const collection = await store.collection();
  const serialisation = await store.serialisation();
  await Promise.all(
    [...state.applied].flatMap(([id, keys]) =>
      keys.map((key) =>
        recordAnswer(collection, id, key, completion.answer, serialisation, state.ctx.signal).catch((error: unknown) => {
          state.ctx.log.warn('outbox could not keep the answer beside the applied request; a retry runs the function again (its writes are not repeated)', { cause: error instanceof Error ? error.name : typeof error });
        }),
      ),
    ),
  );
}

/**
 * Events added for a document no update of the invocation wrote are a bug in the function: fail
 * loudly (those of a document it did update were written by `embeddedWriteLeftovers`).
 */
export function checkNothingLeft(state: InvocationState): void {
  if (state.events.length > 0) {
    const aggregates = [...new Set(state.events.map((e) => aggregateKey(e.aggregateType, e.aggregateId)))];
    throw new EventInvalidError(
      `outbox: ${state.events.length} event(s) were added but no ctx.outbox.updateOne wrote them (no update of the invocation wrote their document: ${aggregates.join(', ')}); embedded mode writes events with an update of their document — add them before it`,
      { issues: [{ field: 'events', message: 'added for a document no update wrote' }] },
    );
  }
}

/** Reads a document without the outbox's fields (`OUTBOX_FIELDS`; the author's `_outboxedAt` stays). */
export async function embeddedRead(store: MongoEmbeddedOutboxStore, id: string): Promise<Record<string, unknown> | null> {
  const doc = (await (await store.collection()).findOne({ _id: id })) as Record<string, unknown> | null;
  if (!doc) return null;
  for (const key of Object.keys(doc)) if (isOutboxField(key)) delete doc[key];
  return doc;
}
