/**
 * Transaction mode of the plugin (MongoDB replica set): the function runs inside
 * `session.withTransaction` through the handler's `wrap` hook and writes its state with
 * `ctx.outbox.session`; before the commit the plugin assigns each aggregate's seq and inserts
 * the events with the same session. The commit uses write concern `majority`, so a failover
 * cannot roll back state whose events were already sent; the flush runs after it.
 * `withTransaction` may run the function more than once (transient errors): the events of
 * an abandoned attempt are dropped with it. The request key (see `request-key.ts`) is
 * inserted as `<outbox>_applied` `{ _id: key }` in the same transaction: a retry after a crash
 * between the commit and the idempotency completion hits the unique `_id` and rolls back.
 */
import { aggregateKey, serializeEvent, type EventDeclarations } from '../envelope.js';
import { UnsupportedServerError } from '../errors.js';
import type { InvocationState, OutboxContextBase } from '../plugin.js';
import type { MongoTransactionOutboxStore, SessionLike } from '../stores/mongo-collection.js';
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

/** Thrown inside the transaction to abort it when the request key was already applied. */
class AlreadyApplied extends Error {}

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
    return { _id: e.id, a: agg, s: seq, t: e.type, e: serializeEvent(e, seq), c: now, p: true };
  });
  await (await store.outbox()).insertMany(docs, { session });
}

/**
 * The `wrap` hook of transaction mode: runs `next` (the function and inner hooks) inside one
 * transaction with the events, then notes the aggregates written for the flush.
 *
 * @throws UnsupportedServerError when the server has no transactions (standalone, FerretDB).
 */
export async function transactionAround(store: MongoTransactionOutboxStore, state: InvocationState, next: () => Promise<unknown>, beforeCommit?: () => Promise<void>): Promise<unknown> {
  if (!(await store.supportsTransactions())) {
    throw new UnsupportedServerError('outbox: transaction mode needs a MongoDB replica set or sharded cluster (this server reports neither; FerretDB and a standalone mongod have no multi-document transactions); use mongoEmbeddedOutbox instead');
  }
  const session = (await store.client()).startSession();
  const requestKey = defaultRequestKey(state.ctx);
  let result: unknown;
  let duplicate = false;
  try {
    await session.withTransaction(async () => {
      // A retried attempt starts from nothing: its predecessor's events were rolled back.
      state.events = [];
      state.session = session;
      result = await next();
      if (beforeCommit && state.events.length > 0) await beforeCommit();
      if (requestKey !== undefined) {
        // The request marker commits with the state and events: a retry after a crash finds it and rolls back.
        try {
          await (await store.applied()).insertOne({ _id: requestKey, at: new Date() }, { session });
        } catch (error) {
          if ((error as { code?: unknown }).code === 11000) throw new AlreadyApplied();
          throw error;
        }
      }
      await insertEvents(store, state, session);
      for (const join of state.joins) await join(session);
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (error instanceof AlreadyApplied) duplicate = true;
    else if (noTransactions(error)) throw new UnsupportedServerError('outbox: transaction mode needs a MongoDB replica set or sharded cluster (this server has no multi-document transactions); use mongoEmbeddedOutbox instead', error);
    else throw error;
  } finally {
    state.session = undefined;
    await session.endSession();
  }
  state.committed = true;
  // A duplicate rolled back; the first attempt's events may still wait, so they are flushed too.
  if (!duplicate) state.metrics.recorded += state.events.length;
  const now = Date.now();
  for (const agg of new Set(state.events.map((e) => aggregateKey(e.aggregateType, e.aggregateId)))) state.written.push({ where: 'outbox', aggregate: agg, since: now });
  state.events = [];
  return result;
}
