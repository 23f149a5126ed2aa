/**
 * Review: MongoDB events whose newest position is before the position hydration reads after —
 * the snapshot's, or a warm instance's last applied event. Reads are `position > after` (now
 * `>=`, see review-state-event-positions), so nothing was read until the positions passed it,
 * and the state stayed the snapshot's (or the warm instance's) without a word: an events
 * collection written anew or restored from an older backup (seq restarting), a wrong newest event
 * deleted by hand, or a snapshot of other events. A snapshot position of another BSON type than
 * the events (`"2000"` in a JSON snapshot over number `seq`) read nothing for good: MongoDB
 * compares within a type only.
 *
 * Now, when not even the event at that position is there, the newest event's position is read
 * (one `findOne`, only then): before that position, or of another kind, fails the load
 * (`STATE_UNAVAILABLE`), and a warm instance, once the failed reload forgets the version, loads
 * that source in full. Against FerretDB.
 */
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, mongoEvents, type SnapshotStore } from '../src/index.js';
import { TEST_DB, logLines, manualClock, ownMongo, stateErrorOf, unique } from './support.js';

const rig = ownMongo();

interface Added {
  seq: number;
  add: number;
}
const sum = (total: number, event: Added): number => total + event.add;

const eventsIn = (docs: Added[], name = unique('behind')) => rig.insert(docs, name);

describe('mongoEvents(): events whose newest position is before the position read after', () => {
  it('an events collection restored from an older backup under a warm instance: stale with the warning, then loaded in full', async () => {
    const collection = await eventsIn([
      { seq: 1, add: 1 },
      { seq: 2, add: 10 },
      { seq: 3, add: 100 },
    ]);
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { total: hydrate({ events: mongoEvents<Added>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' }), initial: () => 0, reducer: sum }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      retryAfterErrorMs: 1_000,
      logger: log.logger,
      now: clock.now,
    });
    expect((await cache.get()).total).toBe(111);

    // Restored to a point before event 3, and one event written since.
    await rig.db.collection(collection).deleteMany({});
    await eventsIn(
      [
        { seq: 1, add: 1 },
        { seq: 2, add: 10 },
      ],
      collection,
    );
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(111);
    expect(log.entries().find((l) => l.msg === 'serving the last good state: reload failed')).toMatchObject({
      failures: [expect.objectContaining({ field: 'total', message: expect.stringMatching(/the newest event is at position 2, before position 3 read after/) })],
    });
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(11);
  });

  it('a snapshot position of another type than the events fails the cold load instead of reading no event', async () => {
    const collection = await eventsIn([
      { seq: 1, add: 1 },
      { seq: 2, add: 10 },
      { seq: 3, add: 100 },
    ]);
    // A JSON snapshot that wrote its position as a string.
    const snapshot: SnapshotStore<number, unknown> = { read: async () => ({ position: '1', state: 1 }) };
    const cache = defineState({
      sources: { total: hydrate({ snapshot, events: mongoEvents<Added, unknown>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' }), initial: () => 0, reducer: sum }) },
    });
    const error = await stateErrorOf(cache.get());
    expect(error.code).toBe('STATE_UNAVAILABLE');
    expect(error.failures[0]!.message).toMatch(/the newest event is at position 3 \(a number\), of another kind than position 1 \(a string\) read after/);
  });

  it('nothing new after the last applied event costs one read; a snapshot whose own event was removed still loads', async () => {
    const collection = await eventsIn([
      { seq: 1, add: 1 },
      { seq: 2, add: 10 },
    ]);
    const clock = manualClock();
    const cache = defineState({
      sources: { total: hydrate({ events: mongoEvents<Added>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' }), initial: () => 0, reducer: sum }) },
      maxAgeMs: 1_000,
      now: clock.now,
    });
    const first = await cache.get();
    rig.mongo.take();
    clock.advance(1_000);
    expect(await cache.get()).toBe(first);
    expect(rig.mongo.take([collection]).map((c) => c.name)).toEqual(['find']);

    // Events up to the snapshot archived, the snapshot's own included: no event after it yet.
    const archived = await eventsIn([{ seq: 1, add: 1 }]);
    await rig.db.collection(archived).deleteMany({});
    const snapshot: SnapshotStore<number, number> = { read: async () => ({ position: 1, state: 1 }) };
    const fromSnapshot = defineState({
      sources: { total: hydrate({ snapshot, events: mongoEvents<Added>({ client: rig.mongo.client, db: TEST_DB, collection: archived, positionField: 'seq' }), initial: () => 0, reducer: sum }) },
    });
    expect((await fromSnapshot.get()).total).toBe(1);
  });
});
