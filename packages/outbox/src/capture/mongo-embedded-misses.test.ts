/**
 * `recordMiss` on the real FerretDB: a request key whose update matched nothing is kept in the
 * document's own bounded list of missed keys (`_outboxMissed`, evicting the oldest miss), never
 * in the applied-key list (where it pushed out an applied key, s55-fxk), and an update under
 * that key then answers `matched: false` without checking its filter or writing. A miss an
 * earlier version recorded in the applied list (answer NOT_MATCHED) still answers so.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openMongo, type MongoBackend } from '../../test/support.js';
import { prepareEvent } from '../envelope.js';
import { FIELDS, NOT_MATCHED, answerField, type CollectionLike } from '../stores/mongo-shapes.js';
import { embeddedWrite, type WriteSerialisation } from './mongo-embedded.js';
import { recordMiss } from './mongo-embedded-misses.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const limits = { maxPendingEvents: 5, maxPendingBytes: 64 * 1024, maxAppliedKeys: 3, maxAnswerBytes: 1024 };

describe('recordMiss on FerretDB', () => {
  let mongo: MongoBackend;
  let col: CollectionLike;
  let lease: WriteSerialisation;
  beforeAll(async () => {
    mongo = await openMongo();
    col = mongo.db.collection(`misses_${randomUUID().slice(0, 8)}`) as unknown as CollectionLike;
    lease = { mode: 'lease', lease: mongo.lease, leaseMs: 10_000, waitMs: 5_000 };
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('keeps the key in its own bounded list, the applied keys untouched; an update under it answers matched: false, nothing written', async () => {
    const answers = { [answerField('a')]: '"A"', [answerField('c')]: '"C"' };
    await col.insertOne({ _id: 'o-1', status: 'validated', [FIELDS.applied]: ['a', 'b', 'c'], [FIELDS.answers]: answers, [FIELDS.missed]: ['m1', 'm2', 'm3'] });
    await expect(recordMiss(col, 'o-1', 'k', limits.maxAppliedKeys, lease)).resolves.toBe(true);
    const doc = await col.findOne({ _id: 'o-1' });
    expect(doc[FIELDS.missed]).toEqual(['m2', 'm3', 'k']);
    expect(doc[FIELDS.applied]).toEqual(['a', 'b', 'c']);
    expect(doc[FIELDS.answers]).toEqual(answers);
    // Once more (a redelivery's own record): nothing changes.
    await expect(recordMiss(col, 'o-1', 'k', limits.maxAppliedKeys, lease)).resolves.toBe(true);
    expect(await col.findOne({ _id: 'o-1' })).toEqual(doc);
    // A key applied already (a concurrent attempt): not recorded as a miss.
    await expect(recordMiss(col, 'o-1', 'b', limits.maxAppliedKeys, lease)).resolves.toBe(true);
    expect(await col.findOne({ _id: 'o-1' })).toEqual(doc);

    // The filter matches now; under the recorded key the update still answers as the first attempt did.
    const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }, {});
    const write = { filter: { _id: 'o-1', status: 'validated' }, update: { $set: { status: 'paid' } }, requestKey: 'k' };
    await expect(embeddedWrite(col, 'order', write, [event], limits, lease)).resolves.toEqual({ matched: false, duplicate: false, upserted: false, events: [] });
    expect(await col.findOne({ _id: 'o-1' })).toEqual(doc);
    // Another key checks the filter.
    await expect(embeddedWrite(col, 'order', { ...write, requestKey: 'k2' }, [event], limits, lease)).resolves.toMatchObject({ matched: true, duplicate: false });
  });

  it('a miss an earlier version kept in the applied list (answer NOT_MATCHED) still answers matched: false', async () => {
    await col.insertOne({ _id: 'o-2', status: 'validated', [FIELDS.applied]: ['old'], [FIELDS.answers]: { [answerField('old')]: NOT_MATCHED } });
    const write = { filter: { _id: 'o-2', status: 'validated' }, update: { $set: { status: 'paid' } }, requestKey: 'old' };
    await expect(embeddedWrite(col, 'order', write, [], limits, lease)).resolves.toEqual({ matched: false, duplicate: false, upserted: false, events: [] });
    expect((await col.findOne({ _id: 'o-2' })).status).toBe('validated');
  });

  it('keeps nothing for a document that does not exist', async () => {
    await expect(recordMiss(col, 'o-none', 'k', limits.maxAppliedKeys, lease)).resolves.toBe(false);
    expect(await col.findOne({ _id: 'o-none' })).toBeNull();
  });
});
