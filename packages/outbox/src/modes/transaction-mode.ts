/**
 * Transaction mode of the plugin (MongoDB replica set): the function runs inside
 * `session.withTransaction` through the handler's `wrap` hook and writes its state with
 * `ctx.outbox.session`; before the commit the plugin assigns each aggregate's seq and inserts
 * the events with the same session. The commit uses write concern `majority`, so a failover
 * cannot roll back state whose events were already sent; the flush runs after it.
 * `withTransaction` may run the function more than once (transient errors): each attempt
 * starts from nothing, so the events of an abandoned attempt never reach the next.
 *
 * Exactly once: the request key (see `request-key.ts`) is inserted as `<outbox>_applied`
 * `{ _id: key, r: answer }` in the same transaction — a retry hits the unique `_id` and rolls
 * back. When an idempotency plugin holds the request on a `mongoStore` of the same deployment,
 * its record is completed inside the transaction too (the lease's settle with the session): a
 * crash after the commit leaves the record done, and a retry replays at once.
 */
import type { Context } from '@steadyfn/handler';
import { pendingCompletion, RequestAlreadyAppliedError, type PendingCompletion } from '@steadyfn/idempotency';
import { aggregateKey, serializeEvent, type EventDeclarations } from '../envelope.js';
import { UnsupportedServerError, WriteConflictError } from '../errors.js';
import { resetAttempt, type InvocationState } from '../invocation.js';
import type { OutboxContextBase } from '../plugin.js';
import { eventDocument, type MongoTransactionOutboxStore, type SessionLike } from '../stores/mongo-collection.js';
import { defaultRequestKey } from './request-key.js';

/** `ctx.outbox` with a MongoDB transaction-mode store. */
export interface TransactionOutboxContext<D extends EventDeclarations> extends OutboxContextBase<D> {
  /**
   * The transaction's session: pass it to every write that must commit with the events,
   * e.g. `orders.updateOne(filter, update, { session: ctx.outbox.session })`.
   *
   * @throws UnsupportedServerError outside the transaction (the handler's `wrap` hook runs it).
   */
  readonly session: SessionLike;
}

/** Options of every transaction. */
export const TRANSACTION_OPTIONS = { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' } as const;

/** Thrown inside the transaction to abort it when the request key was already applied (with the answer recorded then, if any). */
class AlreadyApplied extends Error {
  constructor(readonly answer: string | undefined) {
    super('already applied');
  }
}

/** Thrown inside the transaction to abort it when the idempotency record is no longer this invocation's. */
class CompletionLost extends Error {}

/** Server answers that mean "no transactions here" (standalone mongod, FerretDB). */
function noTransactions(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 20 || code === 238 || code === 115 || (error instanceof Error && /Transaction numbers are only allowed|not supported|NotImplemented/i.test(error.message));
}

/** Inserts the attempt's events with `session`, seq assigned from the aggregates' counters. */
async function insertEvents(store: MongoTransactionOutboxStore, state: InvocationState, session: SessionLike): Promise<void> {
  if (state.events.length === 0) return;
  const byAggregate = new Map<string, number>();
  for (const e of state.events) {
    const agg = aggregateKey(e.aggregateType, e.aggregateId);
    byAggregate.set(agg, (byAggregate.get(agg) ?? 0) + 1);
  }
  const counters = await store.counters();
  const next = new Map<string, number>();
  for (const [agg, n] of byAggregate) {
    const doc = await counters.findOneAndUpdate({ _id: agg }, { $inc: { seq: n } }, { upsert: true, returnDocument: 'after', session });
    next.set(agg, (doc?.seq ?? doc?.value?.seq) - n);
  }
  const now = new Date();
  const docs = state.events.map((e) => {
    const agg = aggregateKey(e.aggregateType, e.aggregateId);
    const seq = next.get(agg)! + 1;
    next.set(agg, seq);
    return eventDocument(e, agg, seq, serializeEvent(e, seq), now);
  });
  await (await store.outbox()).insertMany(docs, { session });
}

/** Whether the idempotency record can be completed with this transaction's session (a MongoDB lease store). */
function joinsTransaction(completion: PendingCompletion | undefined): completion is PendingCompletion & { lease: NonNullable<PendingCompletion['lease']> } {
  const store = completion?.lease?.store as { probe?: unknown; settleFragment?: unknown } | undefined;
  return typeof store?.probe === 'function' && store.settleFragment === undefined;
}

/** The request marker, committed with the state and events: a retry after a crash finds it and rolls back. */
async function markApplied(store: MongoTransactionOutboxStore, requestKey: string, answer: string | undefined, session: SessionLike): Promise<void> {
  const applied = await store.applied();
  try {
    await applied.insertOne({ _id: requestKey, at: new Date(), ...(answer === undefined ? {} : { r: answer }) }, { session });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 11000) throw error;
    // Read outside the aborted transaction: the first attempt's answer, if it recorded one.
    const prior = (await applied.findOne({ _id: requestKey })) as { r?: unknown } | null;
    throw new AlreadyApplied(typeof prior?.r === 'string' ? prior.r : undefined);
  }
}

/**
 * Whether this invocation's request key (`request-key.ts`) is among the applied markers, read
 * with the transaction's `session`: an earlier attempt of the request committed. A conditional
 * write of the re-run that matches nothing (its state already moved on by that attempt) is
 * then a duplicate, not a conflict: the commit's marker insert rolls the transaction back as
 * already applied. False when the invocation has no request key.
 * @throws what the collection's `findOne` throws.
 */
export async function appliedBefore(store: MongoTransactionOutboxStore, ctx: Context, session: SessionLike | undefined): Promise<boolean> {
  const requestKey = defaultRequestKey(ctx);
  if (requestKey === undefined) return false;
  const applied = await store.applied();
  return (await applied.findOne({ _id: requestKey }, session === undefined ? {} : { session })) !== null;
}

/**
 * The `wrap` hook of transaction mode: runs `next` (the function and inner hooks) inside one
 * transaction with the events — and the idempotency completion where it can join — then
 * notes the aggregates written for the flush.
 *
 * @throws UnsupportedServerError when the server has no transactions (standalone, FerretDB).
 * @throws RequestAlreadyAppliedError when an earlier attempt of this request committed with its answer (the idempotency plugin replays it).
 */
export async function transactionAround(store: MongoTransactionOutboxStore, state: InvocationState, next: () => Promise<unknown>, beforeCommit?: () => Promise<void>): Promise<unknown> {
  if (!(await store.supportsTransactions())) {
    throw new UnsupportedServerError('outbox: transaction mode needs a MongoDB replica set or sharded cluster (this server reports neither; FerretDB and a standalone mongod have no multi-document transactions); use mongoEmbeddedOutbox instead');
  }
  const session = (await store.client()).startSession();
  const requestKey = defaultRequestKey(state.ctx);
  let result: unknown;
  let duplicate: AlreadyApplied | undefined;
  let joined: PendingCompletion | undefined;
  let offered: PendingCompletion | undefined;
  try {
    await session.withTransaction(async () => {
      // A retried attempt starts from nothing: its predecessor's events were rolled back.
      resetAttempt(state);
      joined = undefined;
      state.session = session;
      result = await next();
      if (beforeCommit && state.events.length > 0) await beforeCommit();
      const completion = pendingCompletion(state.ctx, result);
      offered = completion;
      if (requestKey !== undefined) await markApplied(store, requestKey, completion?.answer, session);
      await insertEvents(store, state, session);
      if (joinsTransaction(completion)) {
        // Completed with the state and events, or not at all; a lost record aborts the transaction.
        if (!(await completion.lease.store.settle(completion.lease.settle, { session } as never))) throw new CompletionLost();
        joined = completion;
      }
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (error instanceof AlreadyApplied) duplicate = error;
    else if (error instanceof CompletionLost) throw new WriteConflictError('outbox: the idempotency record was taken over by another attempt before this transaction committed; nothing was written', { cause: error });
    else if (noTransactions(error)) throw new UnsupportedServerError('outbox: transaction mode needs a MongoDB replica set or sharded cluster (this server has no multi-document transactions); use mongoEmbeddedOutbox instead', error);
    else throw error;
  } finally {
    state.session = undefined;
    await session.endSession();
  }
  state.committed = true;
  // Committed: with the record's completion, or without it (the plugin completes it itself).
  if (joined) joined.joined();
  else offered?.notJoined();
  // A duplicate rolled back; the first attempt's events may still wait, so they are flushed too.
  if (!duplicate) state.metrics.recorded += state.events.length;
  const now = Date.now();
  for (const agg of new Set(state.events.map((e) => aggregateKey(e.aggregateType, e.aggregateId)))) state.written.push({ where: 'outbox', aggregate: agg, since: now });
  state.events = [];
  if (duplicate?.answer !== undefined && pendingCompletion(state.ctx, result)) state.replay = new RequestAlreadyAppliedError(duplicate.answer);
  return result;
}
