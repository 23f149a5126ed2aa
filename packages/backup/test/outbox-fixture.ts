/**
 * An application writing documents and their outbox events, as `@steadyfn/outbox` would: the
 * document change and an envelope (with `seq` per aggregate and the `after` image) appended to
 * a Redis stream. Keeps the expected state to compare restores with.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { OutboxEnvelope } from '../src/index.js';

export interface OutboxApp {
  /** Inserts or updates document `id` of `collection` (and appends its event). */
  put(id: string, fields: Record<string, unknown>): Promise<OutboxEnvelope>;
  /** Deletes document `id` (and appends its event). */
  remove(id: string): Promise<OutboxEnvelope>;
  /** The expected state: id → document. */
  state: Map<string, Record<string, unknown>>;
}

/** `clock` gives each event's `occurredAt` (the stream files objects by it: tests put events in past hours). */
export function outboxApp(redis: Redis, streamKey: string, collection: string, db?: Db, clock: () => Date = () => new Date()): OutboxApp {
  const seqs = new Map<string, number>();
  const state = new Map<string, Record<string, unknown>>();
  async function emit(id: string, change: OutboxEnvelope['change']): Promise<OutboxEnvelope> {
    const seq = (seqs.get(id) ?? 0) + 1;
    seqs.set(id, seq);
    const envelope: OutboxEnvelope = { id: uuidv7(), type: change?.op === 'delete' ? 'Deleted' : 'Saved', aggregateType: collection, aggregateId: id, seq, payload: {}, occurredAt: clock().toISOString(), schemaVersion: 1, ...(change ? { change } : {}) };
    await redis.xadd(streamKey, '*', 'envelope', JSON.stringify(envelope));
    return envelope;
  }
  return {
    state,
    async put(id, fields) {
      const after = { ...fields };
      const op = state.has(id) ? 'update' : 'insert';
      state.set(id, { _id: id, ...after });
      await db?.collection<{ _id: string }>(collection).replaceOne({ _id: id }, after, { upsert: true });
      return emit(id, { op, after });
    },
    async remove(id) {
      state.delete(id);
      await db?.collection<{ _id: string }>(collection).deleteOne({ _id: id });
      return emit(id, { op: 'delete' });
    },
  };
}
