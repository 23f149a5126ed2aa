/**
 * Embedded and transaction-mode transitions filtered the document by `{ _id, status: from }`:
 * MongoDB's equality on an array matches an array CONTAINING the value, so a transition from
 * "validated" applied to a document whose status is `['validated', 'x']` — the state moved on
 * (and the event was written) from a state the aggregate was not in. The filter now matches the
 * scalar only (`$eq` with `$not: { $type: 'array' }`, which FerretDB 1.24 supports): the
 * transition is refused with TRANSITION_CONFLICT naming the type, nothing written. Real
 * FerretDB documents; transaction mode (FerretDB has no transactions) with the plugin alone
 * over a real collection, no session — the same filter a replica set runs in its transaction.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, mongoTransactionOutbox, outbox, transitions } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const table = { validated: ['paid'], paid: [] } as const;
const lost = (id: string) => `transition of ${id} from "validated" to "paid" lost: its "status" holds an array, not a string state`;

describe('a transition from a state the document holds inside an array', () => {
  it('embedded: refused (TRANSITION_CONFLICT), the document and its outbox untouched; the scalar state still moves', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const fn = handler({ input: z.object({ id: z.string() }), use: [outbox({ events, store }), transitions({ table, store })], logSink: () => undefined }, async ({ id }, ctx) =>
      ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} }),
    );
    const id = `o-${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: id as never, status: ['validated', 'x'] });
    const refused = await fn.invoke({ id }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'TRANSITION_CONFLICT' });
    expect((refused as Error).message).toContain(lost(id));
    expect(await mongo.db.collection(collection).findOne({ _id: id as never })).toEqual({ _id: id, status: ['validated', 'x'] });

    const scalar = `o-${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: scalar as never, status: 'validated' });
    await fn.invoke({ id: scalar });
    expect(await mongo.db.collection(collection).findOne({ _id: scalar as never })).toMatchObject({ status: 'paid', _outboxSeq: 1 });
  });

  it('transaction mode: refused, nothing updated, its event taken back', async () => {
    const collection = mongo.db.collection(`orders_${randomUUID().slice(0, 8)}`);
    const store = mongoTransactionOutbox({ client: { startSession: () => ({}) } as never, db: () => ({}) as never });
    const flow = transitions({ table, store, collection: () => collection as never });
    const staged: unknown[] = [];
    // A direct call with no request key: a lost race is a conflict, not a re-run of an applied step.
    const ctx = { functionName: 'orders', trigger: { kind: 'direct', source: 'test' }, outbox: { add: (event: unknown) => (staged.push(event), event), staged, session: undefined } };
    const { transition } = flow.extend!(ctx as never, []) as { transition: (...args: unknown[]) => Promise<unknown> };
    const id = `o-${randomUUID().slice(0, 8)}`;
    await collection.insertOne({ _id: id as never, status: ['validated', 'x'] });
    const refused = await transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'TRANSITION_CONFLICT' });
    expect((refused as Error).message).toContain(lost(id));
    expect(await collection.findOne({ _id: id as never })).toEqual({ _id: id, status: ['validated', 'x'] });
    expect(staged).toEqual([]);

    const scalar = `o-${randomUUID().slice(0, 8)}`;
    await collection.insertOne({ _id: scalar as never, status: 'validated' });
    expect(await transition(scalar, 'validated', 'paid', { type: 'OrderPaid', aggregateId: scalar, payload: {} })).toEqual({ duplicate: false });
    expect(await collection.findOne({ _id: scalar as never })).toMatchObject({ status: 'paid' });
  });
});
