/**
 * Review: event-sourced state from MongoDB holds BSON values — an event's `_id` (ObjectId), a
 * customer id, a 64-bit counter (Long). The README: on revalidation the reducer "receives a
 * `structuredClone` of the cached state". `structuredClone` keeps no class: an ObjectId came
 * back as `{ i0, i1, i2, i3 }` (`String(id)` → `[object Object]`), a Long as
 * `{ high, low, unsigned }`. The state was right after the cold load and silently corrupt after
 * the first revalidation that applied a new event — every value carried over from before.
 * The copy now keeps class instances (BSON values) as they are and copies what the reducer may
 * change in place (plain objects, arrays, Maps, Sets, Dates), so the state served to running
 * invocations still never changes under them. Against FerretDB.
 */
import { Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, mongoEvents } from '../src/index.js';
import { TEST_DB, logLines, manualClock, ownMongo, unique } from './support.js';

interface LedgerEvent {
  seq: number;
  customer: ObjectId;
  amount: Long;
}

interface Ledger {
  firstCustomer: ObjectId | null;
  lastCustomer: ObjectId | null;
  total: Long;
  seen: Map<string, number>;
  at: Date;
}

const rig = ownMongo();
const collection = rig.dropAfter(unique('ledger'));

function reducer(ledger: Ledger, event: LedgerEvent): Ledger {
  ledger.firstCustomer ??= event.customer;
  ledger.lastCustomer = event.customer;
  ledger.total = ledger.total.add(event.amount);
  ledger.seen.set(event.customer.toHexString(), (ledger.seen.get(event.customer.toHexString()) ?? 0) + 1);
  ledger.at.setTime(ledger.at.getTime() + 1);
  return ledger;
}

describe('hydrate() over MongoDB events holding BSON values', () => {
  it('keeps ObjectId and Long values carried over a revalidation, and never changes the state already served', async () => {
    const events = rig.db.collection<LedgerEvent & { _id?: ObjectId }>(collection);
    const alice = new ObjectId();
    const bob = new ObjectId();
    await events.insertOne({ seq: 1, customer: alice, amount: Long.fromNumber(5) });
    const clock = manualClock();
    const cache = defineState({
      sources: {
        ledger: hydrate({
          events: mongoEvents<LedgerEvent>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq', map: ({ seq, customer, amount }) => ({ seq, customer, amount: Long.fromValue(amount) }) }),
          initial: (): Ledger => ({ firstCustomer: null, lastCustomer: null, total: Long.fromNumber(0), seen: new Map(), at: new Date(0) }),
          reducer,
        }),
      },
      maxAgeMs: 1_000,
      now: clock.now,
      logger: logLines().logger,
    });
    const before = (await cache.get()).ledger;
    expect(before.firstCustomer).toBeInstanceOf(ObjectId);
    expect(before.firstCustomer!.equals(alice)).toBe(true);

    await events.insertOne({ seq: 2, customer: bob, amount: Long.fromNumber(7) });
    clock.advance(2_000);
    const after = (await cache.get()).ledger;
    expect(after).not.toBe(before);
    // Carried over from before the revalidation: still an ObjectId, still alice.
    expect(after.firstCustomer).toBeInstanceOf(ObjectId);
    expect(String(after.firstCustomer)).toBe(alice.toHexString());
    expect(after.lastCustomer!.equals(bob)).toBe(true);
    expect(after.total).toBeInstanceOf(Long);
    expect(after.total.toNumber()).toBe(12);
    expect(after.seen.get(alice.toHexString())).toBe(1);
    expect(after.at.getTime()).toBe(2);
    // The state served before is untouched (the reducer changed a copy: its Map and Date too).
    expect(before.lastCustomer!.equals(alice)).toBe(true);
    expect(before.total.toNumber()).toBe(5);
    expect(before.seen.has(bob.toHexString())).toBe(false);
    expect(before.at.getTime()).toBe(1);
  });
});
