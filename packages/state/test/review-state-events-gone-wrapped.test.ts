/**
 * Review: the "event read after is gone" signal of `mongoEvents` was an exception thrown by the
 * public `readAfter`. A store of yours wrapping it (upcasting old events) let it through: hydrate
 * then read the raw, un-upcast events it carried on a cold load from a snapshot whose own event
 * was archived (a wrong state), and a direct caller got an exception instead of the events. Now
 * `readAfter` returns the events, marked on the array itself: a wrapper's new array carries no
 * mark. Also: positions past 2^53 (BSON Long) compared exactly when telling the event at the
 * position read after from the next one. Against FerretDB.
 */
import { Long } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, mongoEvents, type EventStore } from '../src/index.js';
import { TEST_DB, ownMongo, unique } from './support.js';

const rig = ownMongo();

const collectionWith = (docs: Array<Record<string, unknown>>) => rig.insert(docs, unique('gonewrap'));

/** Version 1 of the event stored `amount`; the reducer knows version 2 (`add`). */
type Stored = { seq: number; amount?: number; add?: number };
const upcast = (e: Stored): { add: number } => ({ add: e.add ?? e.amount ?? Number.NaN });

describe('mongoEvents: the gone signal does not travel through readAfter', () => {
  it('an upcasting store wrapping mongoEvents loads from a snapshot whose own event was archived', async () => {
    // Event 1 archived (in the snapshot); 2 and 3 stored in the old shape.
    const collection = await collectionWith([{ seq: 2, amount: 10 }, { seq: 3, amount: 100 }]);
    const raw = mongoEvents<Stored>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' });
    const upcasting: EventStore<{ add: number }, number> = {
      async readAfter(after, limit, signal) {
        return (await raw.readAfter(after, limit, signal)).map((e) => ({ ...e, event: upcast(e.event) }));
      },
    };
    const cache = defineState({
      sources: { total: hydrate({ snapshot: { read: async () => ({ position: 1, state: 1 }) }, events: upcasting, initial: () => 0, reducer: (s: number, e: { add: number }) => s + e.add }) },
      maxAgeMs: 60_000,
    });
    expect((await cache.get()).total).toBe(111);
  });

  it('a direct readAfter after an archived event returns the events after it', async () => {
    const collection = await collectionWith([{ seq: 2, amount: 10 }, { seq: 3, amount: 100 }]);
    const raw = mongoEvents<Stored>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' });
    const page = await raw.readAfter(1, 10, new AbortController().signal);
    expect(page.map((e) => e.position)).toEqual([2, 3]);
    // The mark is not enumerable: a copy, a JSON dump or a log of the page does not show it.
    expect(Object.keys(page)).toEqual(['0', '1']);
  });

  it('Long positions past 2^53: the event after a gone one is not taken for it (and dropped)', async () => {
    const base = 2n ** 53n;
    const long = (n: bigint) => Long.fromBigInt(base + n);
    // Event base+3 archived; toNumber() rounds base+3 and base+4 to one number.
    const collection = await collectionWith([{ seq: long(4n), add: 10 }, { seq: long(5n), add: 100 }]);
    const raw = mongoEvents<Stored, Long>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' });
    const page = await raw.readAfter(long(3n), 10, new AbortController().signal);
    expect(page.map((e) => String(e.position))).toEqual([String(base + 4n), String(base + 5n)]);
  });
});
