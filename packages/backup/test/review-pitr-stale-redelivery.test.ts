/**
 * Review (rvb2) finding: on a standard SQS queue, a message whose delete failed comes back. An
 * event archived before a snapshot's mark and archived again after it (a redelivered copy) was
 * replayed by point-in-time restore over the snapshot, which already reflects a later `seq` of
 * its aggregate: the document was rolled back (or a deleted one came back). The sink knows at
 * archive time that such an event's `seq` is at or below its aggregate's last archived one and
 * marks the record `stale`; the replay skips a stale record whose aggregate's later `seq` was
 * archived before the mark (the snapshot holds it), and lets one after the mark decide as before.
 */
import { DeleteMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { envelopeRecord, envelopesToBatch } from '../src/stream/sources/outbox.js';
import { HeldBySnapshot } from '../src/restore/stale.js';
import { mongoSource, mongoTarget, pointInTimeRestore, restoreStream, snapshotBackup, streamBackup, verifyBackup, type OutboxEnvelope } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { closeMongo, freshDb, freshQueue, SQS_SERVERS } from './support.js';

afterAll(closeMongo);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const event = (aggregateId: string, seq: number, change: OutboxEnvelope['change']): OutboxEnvelope => ({ id: uuidv7(), type: 'Saved', aggregateType: 'orders', aggregateId, seq, payload: {}, occurredAt: new Date().toISOString(), ...(change ? { change } : {}) });

describe('outbox records: a seq at or below the aggregate\'s last is marked stale', () => {
  it('marks it with the last seq archived before it; a new seq is not marked', () => {
    const e2 = event('o1', 2, { op: 'update', after: { v: 2 } });
    const e1 = event('o1', 1, { op: 'insert', after: { v: 1 } });
    const batch = envelopesToBatch([{ envelope: e2, position: 'a' }, { envelope: e1, position: 'b' }, { envelope: e2, position: 'c' }], { seqs: { 'orders/o1': 1 } }, true);
    expect(batch.records.map((r) => r.stale)).toEqual([undefined, 2, 2]);
    expect(batch.state).toEqual({ seqs: { 'orders/o1': 2 } });
  });
});

describe('HeldBySnapshot: which stale records after a mark the snapshot holds', () => {
  const record = (seq: number, stale?: number) => ({ ...envelopeRecord(event('o1', seq, { op: 'update', after: { v: seq } }), String(seq)), ...(stale === undefined ? {} : { stale }) });

  it('holds a stale record whose later seq was archived before the mark', () => {
    const held = new HeldBySnapshot();
    expect(held.holds(record(1, 2))).toBe(true);
    expect(held.holds(record(3))).toBe(false);
    // Stale against 3 (after the mark), but at or below 2, which the snapshot holds.
    expect(held.holds(record(2, 3))).toBe(true);
  });

  it('leaves one whose later seq came after the mark to the seq order (a target time between the two keeps it)', () => {
    const held = new HeldBySnapshot();
    expect(held.holds(record(3))).toBe(false);
    expect(held.holds(record(2, 3))).toBe(false);
  });

  it('never holds a record without a stale mark (written before it was recorded) or one not from an outbox', () => {
    const held = new HeldBySnapshot();
    expect(held.holds(record(1))).toBe(false);
    expect(held.holds(record(1))).toBe(false);
    expect(held.holds({ id: 'x', position: '1', time: new Date().toISOString(), op: 'upsert', namespace: 'orders', key: '"o1"', doc: '{}', stale: 5 })).toBe(false);
  });
});

describe.each([SQS_SERVERS[0]!])('pointInTimeRestore: an event redelivered after the snapshot\'s mark, on $name', (server) => {
  async function redelivered(e2: OutboxEnvelope, sourceDoc: Record<string, unknown> | undefined) {
    const e1 = event('o1', 1, { op: 'insert', after: { v: 1 } });
    const q = await freshQueue(server, 'rvb2', [JSON.stringify(e1)], 'sqs');
    const source = await freshDb('rvb2src');
    const pitr = await freshDb('rvb2pitr');
    let failDeletes = true;
    const client = {
      config: (q.sqs as unknown as { config: unknown }).config,
      async send(command: unknown, options?: unknown) {
        if (failDeletes && command instanceof DeleteMessageBatchCommand) return { Successful: [], Failed: (command.input.Entries ?? []).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false, Message: 'injected' })) };
        return q.sqs.send(command as never, options as never);
      },
    };
    const job = streamBackup({ name: 'orders', source: sqsSource({ client: client as never, queueUrl: q.queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 2, envelopes: true }), target: q.storage });
    const send = (e: OutboxEnvelope) => q.sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: JSON.stringify(e) }));
    await job.run();
    failDeletes = false;
    await send(e2);
    await job.run();
    await source.collection('orders').insertOne({ _id: 'o1', v: 0 } as never); // the collection exists in the snapshot
    if (sourceDoc) await source.collection('orders').replaceOne({ _id: 'o1' } as never, sourceDoc);
    else await source.collection('orders').deleteOne({ _id: 'o1' } as never);
    expect((await snapshotBackup({ source: mongoSource({ db: source }), target: q.storage, stream: 'orders' }).run()).status).toBe('complete');
    await verifyBackup({ backup: { storage: q.storage, id: 'latest' } });
    await pause(2500);
    const archived = await job.run(); // e1 redelivered, archived after the mark
    expect(archived.records).toBe(1);
    const last = event('o2', 1, { op: 'insert', after: { v: 1 } });
    await send(last);
    await job.run();
    return { q, pitr, last, storage: q.storage };
  }

  it('an update the snapshot holds is not rolled back', async () => {
    const { q, pitr, last, storage } = await redelivered(event('o1', 2, { op: 'update', after: { v: 2 } }), { _id: 'o1', v: 2 });
    try {
      const report = await pointInTimeRestore({ storage, stream: 'orders', at: last.occurredAt, target: mongoTarget({ db: pitr }) });
      expect(await pitr.collection('orders').find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'o1', v: 2 }, { _id: 'o2', v: 1 }]);
      expect(report.stale).toBe(1);
      // The stream alone (every change since it began) still ends at seq 2.
      const alone = await freshDb('rvb2stream');
      await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: alone }) });
      expect(await alone.collection('orders').findOne({ _id: 'o1' } as never)).toEqual({ _id: 'o1', v: 2 });
    } finally {
      await q.cleanup();
    }
  }, 60_000);

  it('a delete the snapshot holds is not undone', async () => {
    const { q, pitr, last, storage } = await redelivered(event('o1', 2, { op: 'delete', before: { _id: 'o1' } }), undefined);
    try {
      await pointInTimeRestore({ storage, stream: 'orders', at: last.occurredAt, target: mongoTarget({ db: pitr }) });
      expect(await pitr.collection('orders').find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'o2', v: 1 }]);
    } finally {
      await q.cleanup();
    }
  }, 60_000);
});
