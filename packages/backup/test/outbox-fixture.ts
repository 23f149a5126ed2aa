/**
 * An application writing documents and their outbox events, as `@steadyfn/outbox` would: the
 * document change and an envelope (with `seq` per aggregate and the `after` image) appended to
 * a Redis stream. Keeps the expected state to compare restores with.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { redisStreamSource, streamBackup, verifyBackup, type OutboxEnvelope, type S3Target, type SnapshotJob } from '../src/index.js';

export interface OutboxApp {
  /** Inserts or updates document `id` of `collection` (and appends its event). */
  put(id: string, fields: Record<string, unknown>): Promise<OutboxEnvelope>;
  /** Deletes document `id` (and appends its event). */
  remove(id: string): Promise<OutboxEnvelope>;
  /** The expected state: id → document. */
  state: Map<string, Record<string, unknown>>;
}

/** The field `@steadyfn/outbox`'s `redisOutbox` keeps the envelope in (`redisStreamSource`'s `envelopeField`). */
export const OUTBOX_ENVELOPE_FIELD = 'e';

/** An outbox envelope inserting document `aggregateId` of `orders` (`seq` 1, `{ total: 1 }`), as `streamBackup(...).append` takes it. */
export function insertEnvelope(aggregateId: string, occurredAt: Date = new Date()): OutboxEnvelope {
  return { id: uuidv7(), type: 'OrderPlaced', aggregateType: 'orders', aggregateId, seq: 1, payload: {}, occurredAt: occurredAt.toISOString(), change: { op: 'insert', after: { _id: aggregateId, total: 1 } } };
}

/** `clock` gives each event's `occurredAt` (the stream files objects by it: tests put events in past hours). */
export function outboxApp(redis: Redis, streamKey: string, collection: string, db?: Db, clock: () => Date = () => new Date()): OutboxApp {
  const seqs = new Map<string, number>();
  const state = new Map<string, Record<string, unknown>>();
  async function emit(id: string, change: OutboxEnvelope['change']): Promise<OutboxEnvelope> {
    const seq = (seqs.get(id) ?? 0) + 1;
    seqs.set(id, seq);
    const envelope: OutboxEnvelope = { id: uuidv7(), type: change?.op === 'delete' ? 'Deleted' : 'Saved', aggregateType: collection, aggregateId: id, seq, payload: {}, occurredAt: clock().toISOString(), schemaVersion: 1, ...(change ? { change } : {}) };
    // The fields `redisOutbox` writes: aggregate, seq, event id, the envelope in `e`, type, traceparent.
    await redis.xadd(streamKey, '*', 'a', `${collection}/${id}`, 's', String(seq), 'i', envelope.id, OUTBOX_ENVELOPE_FIELD, JSON.stringify(envelope), 't', envelope.type, 'p', '');
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

/**
 * A stream whose first two hours lie below one kept snapshot's start mark: four events three
 * hours back and four two hours back (`orders`, each hour stored by `streamBackup` into
 * `storage`), then job `a`'s snapshot (complete, `full` verification), then one event now,
 * stored. Resolves to the kept backup's id.
 */
export async function pastHoursBelowKeptSnapshot(redis: Redis, streamKey: string, db: Db, storage: S3Target, job: (name: string) => SnapshotJob): Promise<string> {
  const HOUR = 3_600_000;
  let lag = 3 * HOUR;
  const app = outboxApp(redis, streamKey, 'orders', db, () => new Date(Date.now() - lag));
  const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: streamKey, envelopeField: OUTBOX_ENVELOPE_FIELD }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
  for (let i = 0; i < 4; i++) await app.put(`x${i}`, { phase: 'x', pad: 'x'.repeat(300) });
  await stream.run();
  lag = 2 * HOUR;
  for (let i = 0; i < 4; i++) await app.put(`y${i}`, { phase: 'y', pad: 'y'.repeat(300) });
  await stream.run();
  lag = 0;
  const kept = await job('a').run();
  if (kept.status !== 'complete') throw new Error(`snapshot ${kept.status}`);
  await verifyBackup({ backup: { storage, id: kept.backupId }, level: 'full' });
  await app.put('z0', { phase: 'z' });
  await stream.run();
  return kept.backupId;
}
