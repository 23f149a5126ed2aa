/**
 * Review: `hydrate({ maxEvents })` — "more than maxEvents events after the snapshot fails the
 * load" — was checked only after a full page, on the events applied so far: a last page short of
 * `pageSize` ended the replay unchecked (pageSize 3, maxEvents 4: 5 events loaded), and a full
 * page reaching exactly `maxEvents` failed although no event followed (pageSize 2, maxEvents 4:
 * 4 events refused). The bound on memory and replay time was off by up to a page either way.
 *
 * Now each read asks for at most one event past the bound, and the replay fails as soon as more
 * than `maxEvents` were read, before the reducer sees them. Against FerretDB.
 */
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, mongoEvents, StateError } from '../src/index.js';
import { TEST_DB, ownMongo, unique } from './support.js';

const rig = ownMongo();

async function events(count: number): Promise<string> {
  const name = unique('max-events');
  rig.dropAfter(name);
  await rig.db.collection(name).insertMany(Array.from({ length: count }, (_, i) => ({ seq: i + 1, add: 1 })));
  return name;
}

function loadOnce(collection: string, pageSize: number, maxEvents: number) {
  let reduced = 0;
  const cache = defineState({
    sources: {
      total: hydrate({
        events: mongoEvents<{ add: number }>({ client: rig.mongo.client, db: TEST_DB, collection, positionField: 'seq' }),
        initial: () => 0,
        reducer: (t: number, e: { add: number }) => (reduced++, t + e.add),
        pageSize,
        maxEvents,
      }),
    },
  });
  return { result: cache.get(), reduced: () => reduced };
}

describe('hydrate(): maxEvents', () => {
  it('more events than maxEvents fail the load even when the last page is short, before the reducer sees the extra one', async () => {
    const { result, reduced } = loadOnce(await events(5), 3, 4);
    const error = await result.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).failures[0]!.message).toMatch(/more than 4 events after the start \(raise maxEvents/);
    expect(reduced()).toBeLessThanOrEqual(4);
  });

  it('exactly maxEvents events load, a full page ending on the bound included', async () => {
    expect((await loadOnce(await events(4), 2, 4).result).total).toBe(4);
    expect((await loadOnce(await events(4), 10, 4).result).total).toBe(4);
  });
});
