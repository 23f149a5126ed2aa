/**
 * Embedded and transaction-mode transitions whose document holds a state that is not a string
 * (a number, an object, an array) answered `TRANSITION_CONFLICT` "lost: it is "[object Object]""
 * — or quoted the value itself ("lost: it is "7"", "secret-7f3a,validated"). The message now
 * names the field and the type it holds, never the value. Real FerretDB documents; transaction
 * mode (FerretDB has no transactions) with the plugin alone over a real collection, no session.
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
const states: Array<[unknown, string]> = [
  [{ secret: 'secret-7f3a' }, 'an object'],
  [7301, 'a number'],
  [['secret-7f3a', 'paid'], 'an array'],
  [true, 'a boolean'],
];
const expected = (id: string, kind: string) => `transition of ${id} from "validated" to "paid" lost: its "status" holds ${kind}, not a string state`;

describe('a transition meeting a state that is not a string', () => {
  it('embedded: TRANSITION_CONFLICT naming the type the field holds, never its value', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const fn = handler({ input: z.object({ id: z.string() }), use: [outbox({ events, store }), transitions({ table, store })], logSink: () => undefined }, async ({ id }, ctx) =>
      ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} }),
    );
    for (const [status, kind] of states) {
      const id = `o-${randomUUID().slice(0, 8)}`;
      await mongo.db.collection(collection).insertOne({ _id: id as never, status });
      const refused = await fn.invoke({ id }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'TRANSITION_CONFLICT' });
      expect((refused as Error).message).toContain(expected(id, kind));
      expect((refused as Error).message).not.toMatch(/secret|7301|true|object Object/);
      expect(await mongo.db.collection(collection).findOne({ _id: id as never })).toMatchObject({ status });
    }
  });

  it('transaction mode: the same message', async () => {
    const collection = mongo.db.collection(`orders_${randomUUID().slice(0, 8)}`);
    const store = mongoTransactionOutbox({ client: { startSession: () => ({}) } as never, db: () => ({}) as never });
    const flow = transitions({ table, store, collection: () => collection as never });
    for (const [status, kind] of states) {
      const id = `o-${randomUUID().slice(0, 8)}`;
      await collection.insertOne({ _id: id as never, status });
      const staged: unknown[] = [];
      // A direct call with no request key: a lost race is a conflict, not a re-run of an applied step.
      const ctx = { functionName: 'orders', trigger: { kind: 'direct', source: 'test' }, outbox: { add: (event: unknown) => (staged.push(event), event), staged, session: undefined } };
      const { transition } = flow.extend!(ctx as never, []) as { transition: (...args: unknown[]) => Promise<unknown> };
      const refused = await transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'TRANSITION_CONFLICT' });
      expect((refused as Error).message).toContain(expected(id, kind));
      expect((refused as Error).message).not.toMatch(/secret|7301|true|object Object/);
      expect(staged).toEqual([]);
    }
  });
});
