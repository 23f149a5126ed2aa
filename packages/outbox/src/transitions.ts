/**
 * `transitions({ ... })`: a database as the state machine. A declared table of allowed
 * transitions; `ctx.transition(aggregateId, from, to, event)` is one conditional update (the
 * aggregate must still be in `from`) plus its outbox event in the same atomic write. An
 * illegal transition or a lost race is a typed 409; the event triggers the next step's
 * function through the queue, and each step is exactly-once through the inbox (its key is
 * the write's request key, so a redelivered step writes nothing twice).
 *
 *   Redis        check HGET key field == from; HSET key field to; the event — one script
 *   embedded     updateOne({ _id, [field]: from }, { $set: { [field]: to } }) with the event
 *   transaction  updateOne({ _id, [field]: from }, …, { session }) in the function's transaction
 */
import type { Context, Plugin } from '@steadyfn/handler';
import { checkKnownKeys, invalidOption, isRecord, keysOf, stringOption } from '@steadyfn/handler/internal';
import type { EventDeclarations, EventDraft, PendingEvent } from './envelope.js';
import { PreconditionFailedError, TransitionError } from './errors.js';
import { alsoSetFields, hashValue } from './transitions-also-set.js';
import { CHECK_FAILURE, type CheckFailure, type RedisCheck } from './capture/redis.js';
import type { OutboxContextBase } from './plugin.js';
import type { EmbeddedOutboxContext } from './modes/embedded-mode.js';
import type { RedisOutboxContext } from './modes/redis-mode.js';
import { appliedBefore, type TransactionOutboxContext } from './modes/transaction-mode.js';
import type { MongoTransactionOutboxStore } from './stores/mongo-collection.js';
import type { CollectionLike } from './stores/mongo-shapes.js';
import type { OutboxStore } from './stores/outbox-store.js';

/** A transition table: each state and the states it may move to. */
export type TransitionTable = Record<string, ReadonlyArray<string>>;

/** The states of a table. */
export type StateOf<T extends TransitionTable> = Extract<keyof T, string>;

/** Options of `transitions()`. */
export interface TransitionsOptions<T extends TransitionTable> {
  /** Allowed transitions: each state and the states it may move to (every target must be a state). */
  table: T;
  /**
   * The store of the outbox this workflow writes through — the one given to `outbox()`, listed
   * before `transitions()` in `use`. Its mode says what a transition writes, so the option it
   * needs is checked when `transitions()` is called: Redis needs `redisKey`, transaction mode
   * `collection`, embedded mode neither (and each refuses the other modes' option).
   */
  store: OutboxStore;
  /** The field holding the state (document field, or hash field in Redis). @default 'status' */
  field?: string;
  /** Redis mode (required there): the hash key of an aggregate, e.g. `(id) => \`order:{${id}}\``. */
  redisKey?: (aggregateId: string) => string;
  /** Transaction mode (required there): the collection of the aggregates. */
  collection?: () => CollectionLike | Promise<CollectionLike>;
  /**
   * Extra fields set with the state (e.g. `{ [`${to}At`]: new Date() }`). In Redis mode each is
   * a hash field: strings and finite numbers as they are, a `Date` as its ISO string, booleans
   * as `true`/`false`, other values as JSON text. Checked at each transition, before anything is
   * staged: the state `field` itself (which would override `to`), and in MongoDB modes one of
   * the outbox's fields (`OUTBOX_FIELDS`: `_outbox`, `_outboxSeq`, …, or a path inside one; not
   * your `_outboxedAt`), a key starting with `$` or `<field>.`, are refused, as is in Redis mode a value a hash
   * cannot hold (`undefined`, `NaN`, an invalid `Date`, a bigint): a terminal `CONFIG_INVALID`
   * (field `alsoSet`, or `alsoSet.<key>` for a value).
   */
  alsoSet?: (from: StateOf<T>, to: StateOf<T>) => Record<string, unknown>;
}

/** What a transition did. */
export interface TransitionResult {
  /**
   * Already applied by an earlier delivery of the same step: nothing was written now (embedded
   * mode; transaction mode, where the aggregate is no longer in `from` and the request key is
   * among the applied markers — the transaction then rolls back as already applied). Always
   * `false` in Redis mode, where the write runs after the function returns (a re-run's write
   * then writes nothing, but the function cannot see it here).
   */
  duplicate: boolean;
}

/** What `transitions()` adds to `ctx`. */
export interface TransitionContext<S extends string> {
  /**
   * Moves `aggregateId` from `from` to `to` and records `event`, in one atomic write.
   * In Redis mode the write happens when the function returns (a lost race then fails the
   * invocation with the same 409); a second transition of the same aggregate in the invocation
   * is judged against the state the earlier one leaves (refused at once from any other state).
   *
   * @throws ConfigurationError `CONFIG_INVALID` (field `alsoSet`, or `alsoSet.<key>` for a value)
   *   for what `alsoSet` returns that the write cannot set (see `TransitionsOptions.alsoSet`);
   *   nothing is staged or written.
   * @throws TransitionError `TRANSITION_ILLEGAL` (409) when the table does not allow it;
   *   `TRANSITION_CONFLICT` (409) when the aggregate is no longer in `from`, or has no state
   *   (no document or hash, or no `field` in it: the message names the aggregate and `from`);
   *   a `field` holding no string (a number, an object) is named by its type, never its value.
   * @throws PreconditionFailedError `OUTBOX_PRECONDITION_FAILED` (409), Redis mode, when the key
   *   `redisKey(aggregateId)` holds another type than a hash: the message names the key's role
   *   and type and the hash expected, never what it holds; nothing is written.
   *   A refused transition, and one whose write throws (embedded and transaction mode: the
   *   error passes unchanged), takes its event back: a function that catches the error and
   *   writes again never writes or relays it.
   */
  transition(aggregateId: string, from: S, to: S, event: EventDraft<EventDeclarations>): Promise<TransitionResult>;
}

type AnyOutbox = OutboxContextBase<EventDeclarations> & Partial<RedisOutboxContext<EventDeclarations>> & Partial<EmbeddedOutboxContext<EventDeclarations>> & Partial<TransactionOutboxContext<EventDeclarations>>;

const OWNER = 'transitions';

/**
 * Creates the transitions plugin; list it after the outbox plugin.
 *
 * @throws ConfigurationError for an empty or inconsistent table, a missing or unknown `store`, the
 *   mode's option missing (`redisKey` for Redis, `collection` for transaction mode) or another
 *   mode's option given, an `alsoSet` that is not a function, or an unknown option key.
 * @example
 * const flow = transitions({ table: { validated: ['paid'], paid: ['dispatched'], dispatched: [] }, store });
 * handler({ use: [inbox(...), orders, flow] }, async (_in, ctx) => {
 *   await ctx.transition(orderId, 'validated', 'paid', { type: 'OrderPaid', aggregateId: orderId, payload });
 * });
 */
export function transitions<const T extends TransitionTable>(options: TransitionsOptions<T>): Plugin<TransitionContext<StateOf<T>>, PendingTransition[]> {
  type S = StateOf<T>;
  checkKnownKeys(OWNER, '', options, keysOf<TransitionsOptions<TransitionTable>>({ table: true, store: true, field: true, redisKey: true, collection: true, alsoSet: true }));
  if (!isRecord(options) || !isRecord(options.table) || Object.keys(options.table).length === 0) invalidOption(OWNER, 'table', 'an object { state: [next states] }', options?.table);
  const states = new Set(Object.keys(options.table));
  for (const [from, to] of Object.entries(options.table) as Array<[string, ReadonlyArray<string>]>) {
    if (!Array.isArray(to) || !to.every((t) => states.has(t))) invalidOption(OWNER, `table.${from}`, `an array of declared states (${[...states].join(', ')})`, to);
  }
  checkModeOptions(options as unknown as TransitionsOptions<TransitionTable>);
  const field = stringOption(OWNER, 'field', options.field, 'status');
  if (field.startsWith('_outbox') || field.startsWith('$') || field.includes('.')) invalidOption(OWNER, 'field', 'a top-level field name not starting with _outbox or $', field);
  if (options.alsoSet !== undefined && typeof options.alsoSet !== 'function') invalidOption(OWNER, 'alsoSet', 'a function (from, to) => the fields to set with the state', options.alsoSet);

  const allowed = (from: S, to: S) => Object.hasOwn(options.table, from) && options.table[from]!.includes(to);

  // `found`: the state read (undefined: the aggregate or its state field does not exist), or
  // `differs` when only "another state" is known (Redis: the script does not return the value).
  const conflict = (id: string, from: string, to: string, found: { actual: unknown } | 'differs') => {
    if (found !== 'differs' && (found.actual === undefined || found.actual === null)) {
      return new TransitionError('TRANSITION_CONFLICT', `transition of ${id} from "${from}" to "${to}" refused: aggregate ${id} has no state (it does not exist, or has no "${field}"); expected "${from}"`, { from, to });
    }
    const actual = found !== 'differs' && typeof found.actual === 'string' ? found.actual : undefined;
    // A state that is not a string (a number, an object) is named by its type, never its value.
    const now = found === 'differs' ? `it is no longer "${from}"` : actual !== undefined ? `it is "${actual}"` : `its "${field}" holds ${kindOf(found.actual)}, not a string state`;
    return new TransitionError('TRANSITION_CONFLICT', `transition of ${id} from "${from}" to "${to}" lost: ${now}`, { from, to, actual });
  };

  // The key's type and role are named, never what it holds.
  // `nothing`: what the write left (Redis Cluster: its home claims, named).
  const notAHash = (id: string, from: string, to: string, type: string, nothing: string) =>
    new PreconditionFailedError(
      `transition of ${id} from "${from}" to "${to}" refused: the aggregate's state key (redisKey(${JSON.stringify(id)})) holds a ${type}; expected a hash whose "${field}" field holds its state (does redisKey give the name of another key?); ${nothing}`,
    );

  const run = async (ctx: Context, pending: PendingTransition[], id: string, from: S, to: S, event: EventDraft<EventDeclarations>): Promise<TransitionResult> => {
    if (!allowed(from, to)) throw new TransitionError('TRANSITION_ILLEGAL', `transition from "${from}" to "${to}" is not in the table`, { from, to });
    const outbox = (ctx as Context & { outbox?: AnyOutbox }).outbox;
    if (!outbox) invalidOption(OWNER, 'use', 'the outbox plugin listed before transitions() in `use`', undefined);
    const listed = outbox.updateOne ? 'mongo-embedded' : outbox.call && outbox.check ? 'redis' : 'mongo-transaction';
    if (listed !== options.store.mode) invalidOption(OWNER, 'store', `the store of the outbox listed before transitions() (a ${listed} store; this one is ${options.store.mode})`, undefined);
    // Checked before the event is staged: a refused alsoSet stages and writes nothing.
    const set = { [field]: to, ...(options.alsoSet ? alsoSetFields(options.alsoSet(from, to), field, to, listed !== 'redis') : {}) };
    const hash = listed === 'redis' ? Object.entries(set).flatMap(([k, v]) => [k, hashValue(k, v)]) : [];
    const added = outbox.add(event);
    if (outbox.updateOne) {
      // A write that throws (a server error, the outbox's CONFIG_INVALID, an unreachable server)
      // wrote nothing: its event is taken back, or a function that catches the error would have
      // it written — and relayed — with its next update of the aggregate.
      const result = await outbox.updateOne({ _id: id, [field]: stateIs(from) }, { $set: set }).catch((error: unknown) => {
        unstage(outbox, added);
        throw error;
      });
      if (result.matched) return { duplicate: result.duplicate };
      unstage(outbox, added);
      const current = await outbox.read!(id);
      throw conflict(id, from, to, { actual: current?.[field] });
    }
    if (outbox.call && outbox.check) {
      const key = options.redisKey!(id);
      // The write checks every precondition against the state before any of its commands, so a
      // second transition of the aggregate in this invocation is judged here, against the state
      // the earlier one leaves: from its `to` on, it needs no check of its own (the earlier
      // one's covers it); from another state it cannot happen, whatever the server holds.
      const earlier = pending.findLast((p) => p.id === id);
      if (earlier && earlier.to !== from) {
        unstage(outbox, added);
        throw new TransitionError('TRANSITION_CONFLICT', `transition of ${id} from "${from}" to "${to}" refused: this invocation already moves it to "${earlier.to}"`, { from, to, actual: earlier.to });
      }
      if (!earlier) {
        // The write fails this check with the transition's own 409 (not an outbox precondition
        // error that an onError hook would have to replace, logging a warning per lost race).
        // A key of another type is no state at all, not a lost race: a 409 TRANSITION_CONFLICT
        // there would read as "already moved on" to a function or consumer that catches it.
        const onFailure = (failure: CheckFailure, nothing: string) => (failure.why === 'type' ? notAHash(id, from, to, failure.type, nothing) : conflict(id, from, to, failure.why === 'missing' ? { actual: undefined } : 'differs'));
        outbox.check({ key, field, equals: from, label: labelOf(id, from), [CHECK_FAILURE]: onFailure } as RedisCheck);
      }
      outbox.call('HSET', key, ...hash);
      pending.push({ id, from, to });
      return { duplicate: false };
    }
    // As in embedded mode: a failed update's event is taken back (the transaction may still commit).
    let collection: CollectionLike;
    let result: { matchedCount: number };
    try {
      collection = await options.collection!();
      result = await collection.updateOne({ _id: id, [field]: stateIs(from) }, { $set: set }, { session: outbox.session });
    } catch (error) {
      unstage(outbox, added);
      throw error;
    }
    if (result.matchedCount > 0) return { duplicate: false };
    unstage(outbox, added);
    // A re-run after a crash between the commit and the inbox completion: the state moved on with
    // this request's own earlier attempt. Answered as a duplicate, the commit rolls back as already applied.
    if (await appliedBefore(options.store as MongoTransactionOutboxStore, ctx, outbox.session)) return { duplicate: true };
    const current = await collection.findOne({ _id: id }, { session: outbox.session });
    throw conflict(id, from, to, { actual: current?.[field] });
  };

  return {
    name: 'transitions',
    state: () => [],
    extend(ctx, pending) {
      return { transition: (id, from, to, event) => run(ctx, pending, id, from as S, to as S, event) };
    },
    wrap(_ctx, next, pending) {
      // Each run of the function (a plugin listed before this one may run it again) starts from
      // nothing, as the outbox's own checks and commands do: an earlier run's transitions are not this one's.
      pending.length = 0;
      return next();
    },
  };
}

/** What each store mode needs of the options (checked when `transitions()` is called, not at the first invocation). */
function checkModeOptions(options: TransitionsOptions<TransitionTable>): void {
  const mode = isRecord(options.store) ? options.store.mode : undefined;
  if (mode !== 'redis' && mode !== 'mongo-embedded' && mode !== 'mongo-transaction') {
    invalidOption(OWNER, 'store', "the outbox's store, as given to outbox(): redisOutbox(...), mongoEmbeddedOutbox(...) or mongoTransactionOutbox(...)", options.store);
  }
  const needs = { redis: 'redisKey', 'mongo-embedded': undefined, 'mongo-transaction': 'collection' }[mode];
  for (const option of ['redisKey', 'collection'] as const) {
    const value = options[option];
    if (option === needs && typeof value !== 'function') {
      const what = option === 'redisKey' ? 'a function (aggregateId) => the Redis hash key of the aggregate' : "a function returning the aggregates' collection";
      invalidOption(OWNER, option, `${what} (the store is ${mode})`, value);
    }
    if (option !== needs && value !== undefined) invalidOption(OWNER, option, `left out: it is for ${option === 'redisKey' ? 'Redis' : 'transaction'} mode, and the store is ${mode}`, value);
  }
}

/**
 * Takes a lost transition's event back out of the invocation's staged events. A function may
 * catch the `TRANSITION_CONFLICT` (an aggregate already moved on is often an answer, not a
 * failure): the event of a transition that did not happen must then be neither written with a
 * later update of the function (embedded mode, transaction mode's commit) nor left staged for
 * the outbox to refuse at the invocation's end. `staged` is the invocation's own list.
 */
function unstage(outbox: AnyOutbox, event: PendingEvent): void {
  const staged = outbox.staged as PendingEvent[];
  const at = staged.indexOf(event);
  if (at >= 0) staged.splice(at, 1);
}

/** A value's type for a message, never its value: `a number`, `an array`, `a Date`, `an ObjectId`, `an object`, `a Uint8Array`. */
function kindOf(value: unknown): string {
  const name = Array.isArray(value) ? 'array' : typeof value === 'object' && value !== null ? (value.constructor?.name && value.constructor.name !== 'Object' ? value.constructor.name : 'object') : typeof value;
  // `U` of a class name is said "you" (`a Uint8Array`); `undefined` takes `an`.
  return `${/^[aeiouAEIO]/.test(name) ? 'an' : 'a'} ${name}`;
}

/**
 * The filter of a document whose state field holds exactly `from`. A bare `{ status: from }`
 * also matches an ARRAY containing `from` (MongoDB's equality on arrays): a document whose
 * state is `['validated', 'x']` would have moved on as if it were `validated`. `$not: { $type:
 * 'array' }` leaves arrays out, on MongoDB and FerretDB 1.24 alike (`$type: 'string'` would not:
 * on an array it matches any string element).
 */
function stateIs(from: string): Record<string, unknown> {
  return { $eq: from, $not: { $type: 'array' } };
}

/** The label of a transition's check; the write's 409 names it (JSON-quoted). */
function labelOf(id: string, from: string): string {
  return `${id} is ${from}`;
}

/** A Redis-mode transition staged by this invocation (its `from` is checked when the function returns). */
interface PendingTransition {
  id: string;
  from: string;
  to: string;
}
