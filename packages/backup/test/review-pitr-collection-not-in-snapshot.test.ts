/**
 * Review (rvb2) finding: point-in-time restore wrote a collection the snapshot never held with
 * only the documents streamed changes touched after the snapshot's mark — a partial state
 * restored in silence (customers came back with c1 alone; c2 was never in the stream). Such a
 * replay is refused before anything is written (`PitrPartialError`), as `restoreStream` refuses
 * a timeline that began at a break, unless `allowPartial: true`; then the report and the log
 * carry a warning naming the collection.
 */
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { PitrPartialError, mongoSource, mongoTarget, pointInTimeRestore, snapshotBackup, streamBackup, verifyBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const event = (type: string, aggregateId: string, seq: number, change: OutboxEnvelope['change']): OutboxEnvelope => ({ id: uuidv7(), type: 'Saved', aggregateType: type, aggregateId, seq, payload: {}, occurredAt: new Date().toISOString(), ...(change ? { change } : {}) });

describe('pointInTimeRestore: a streamed collection the snapshot does not hold', () => {
  async function setUp() {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('rvb2src');
    const pitr = await freshDb('rvb2pitr');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'push' };
    const push = streamBackup({ name: 'orders', target: storage });
    await push.append([event('orders', 'o1', 1, { op: 'insert', after: { v: 1 } })]);
    await source.collection('orders').insertOne({ _id: 'o1', v: 1 } as never);
    await source.collection('customers').insertMany([{ _id: 'c1', n: 1 }, { _id: 'c2', n: 1 }] as never);
    expect((await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders' }).run()).status).toBe('complete');
    await verifyBackup({ backup: { storage, id: 'latest' } });
    await pause(5);
    const last = event('customers', 'c1', 2, { op: 'update', after: { n: 2 } });
    await push.append([last]);
    const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
    const log = {
      info: (message: string, fields?: Record<string, unknown>) => lines.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
      warn: (message: string, fields?: Record<string, unknown>) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
      error: (message: string, fields?: Record<string, unknown>) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
    };
    return { s3, storage, pitr, last, lines, log };
  }

  it('is refused before anything is written', async () => {
    const { s3, storage, pitr, last, log } = await setUp();
    try {
      const error = await pointInTimeRestore({ storage, stream: 'orders', at: last.occurredAt, target: mongoTarget({ db: pitr }) }, { log }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PitrPartialError);
      expect((error as PitrPartialError).code).toBe('PITR_PARTIAL');
      expect((error as PitrPartialError).collections).toEqual(['customers']);
      expect((error as Error).message).toContain('"customers"');
      expect((await pitr.listCollections().toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.'))).toEqual([]);
    } finally {
      await s3.drop();
    }
  }, 60_000);

  it('with allowPartial: true, restores it and warns in the report and the log', async () => {
    const { s3, storage, pitr, last, lines, log } = await setUp();
    try {
      const report = await pointInTimeRestore({ storage, stream: 'orders', at: last.occurredAt, target: mongoTarget({ db: pitr }), allowPartial: true }, { log });
      expect(await pitr.collection('customers').find({}).toArray()).toEqual([{ _id: 'c1', n: 2 }]);
      expect(await pitr.collection('orders').find({}).toArray()).toEqual([{ _id: 'o1', v: 1 }]);
      expect(report.partial).toEqual(['customers']);
      expect(report.warnings).toHaveLength(1);
      expect(report.warnings[0]).toContain('"customers"');
      const warned = lines.filter((l) => l.level === 'warn');
      expect(warned).toHaveLength(1);
      expect(warned[0]!.fields).toMatchObject({ stream: 'orders', collections: ['customers'] });
    } finally {
      await s3.drop();
    }
  }, 60_000);

  it('refuses an allowPartial that is not a boolean', async () => {
    const { s3, storage, pitr, last } = await setUp();
    try {
      const error = await pointInTimeRestore({ storage, stream: 'orders', at: last.occurredAt, target: mongoTarget({ db: pitr }), allowPartial: 'yes' as never }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      await s3.drop();
    }
  }, 60_000);
});
