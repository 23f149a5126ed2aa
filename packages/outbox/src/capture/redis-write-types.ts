/**
 * What one Redis atomic write carries (`RedisWrite`: checks, commands, events, fragments, a
 * request key) and what it answers (`RedisWriteResult`), as `redisWrite` (redis.ts) takes them.
 */
import type { PendingEvent } from '../envelope.js';
import type { RedisCommand } from './redis-commands.js';
import type { ScriptFragment } from './redis-script.js';

/**
 * Why a check failed, as the write's script found it: `missing` (the key, or its hash field,
 * does not exist), `type` (the key holds another type), `differs` (another value), `present`
 * (an `absent` check's key or field exists).
 */
export type CheckFailure = { why: 'missing' | 'differs' | 'present' } | { why: 'type'; type: string };

/**
 * Internal: a check carrying this function fails with the error it returns instead of
 * `PreconditionFailedError` (`transitions()` turns its check into its own `TRANSITION_CONFLICT`
 * at the source, rather than replacing the error in an `onError` hook).
 */
export const CHECK_FAILURE: unique symbol = Symbol('steadyfn.outbox.checkFailure');

/** A precondition on state, checked before anything is written. */
export type RedisCheck =
  | { key: string; field?: string; equals: string; label?: string }
  | { key: string; field?: string; absent: true; label?: string }
  | { key: string; field?: string; exists: true; label?: string };


/** Everything one atomic write carries. */
export interface RedisWrite {
  /** Preconditions, all checked before anything is written; one that fails writes nothing (409). */
  checks: ReadonlyArray<RedisCheck>;
  /** The state commands, run in order after every check passed. */
  commands: ReadonlyArray<RedisCommand>;
  /**
   * The events appended to the aggregate's outbox stream, each given the next `seq`. Each
   * aggregate's home partition (recorded by its first write) must be this write's partition,
   * else the write is refused (`AggregatePartitionError`, nothing written).
   */
  events: ReadonlyArray<PendingEvent>;
  /** Lua joined into the same script (an idempotency or inbox completion). */
  fragments?: ReadonlyArray<ScriptFragment>;
  /**
   * Makes the write exactly-once: a marker `<prefix>{tag}:applied:<sha256(key)>` is checked
   * absent first and set (for `ttlMs`) with the write, holding `answer` (the request's encoded
   * answer, when known) or `1`; when present, nothing is written and the result says
   * `duplicate` with the marker's value.
   */
  requestKey?: { key: string; ttlMs: number; answer?: string | undefined };
  /**
   * Redis Cluster: how long the partition stays listed for the sweeper after this write
   * (its `live` marker's TTL). @default 3600000
   */
  partitionTtlMs?: number;
  /**
   * The relay's `mark` for this outbox. With `'sent'` the partition's sent set (where the
   * relay records sent events) is one of the write's own keys, its type checked before
   * anything is written: a sent set of another type would let the events be written, then
   * every relay send them and fail to mark them, so they would be sent again on every run.
   * @default 'delete'
   */
  mark?: 'delete' | 'sent';
}

/** One recorded event: its id, the seq the write assigned and its stream entry id. */
export interface WrittenEvent {
  /** The event id (UUIDv7). */
  id: string;
  /** The aggregate id. */
  aggregate: string;
  /** Its place in the aggregate's order, from 1. */
  seq: number;
  /** The entry id in the outbox stream. */
  streamId: string;
}

/** What one Redis-mode write did. */
export interface RedisWriteResult {
  /** The hash tag the write's keys share (the outbox partition the relay reads). */
  partition: string;
  /** The events recorded, in order. */
  events: WrittenEvent[];
  /** The request key was already applied: nothing was written. */
  duplicate: boolean;
  /** With `duplicate`: what the first write's marker holds (its answer, or `1`). */
  applied?: string;
  /** What the fragments' writes appended to the reply (after the events). */
  extra: string[];
}
