/**
 * Review: in the quiet steady state after every event up to the snapshot was archived (its own
 * included, nothing appended since), each revalidation of a `hydrate` with a `mongoSnapshot`
 * read the newest snapshot document in full again (its whole state) to find it unchanged, where
 * an `s3Snapshot` is asked with its ETag (a 304). Now a `mongoSnapshot` confirmed at the position
 * applied last is asked for its `_id` and position alone (a projection); the state is read only
 * when they change. Correctness: an inserted newer snapshot, an update of the newest in place
 * (same number of documents), the newest deleted, a replacement at the same position and a
 * snapshot without position are all seen, as a full read would see them. Against FerretDB.
 */
import type { CommandStartedEvent } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { SourceError, defineState, hydrate, mongoEvents, mongoSnapshot, type Known, type Loaded, type StateSource } from '../src/index.js';
import { TEST_DB, manualClock, ownMongo, unique } from './support.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';

const rigMongo = ownMongo();
const collections: string[] = [];
/** The finds against the test's collections since the last `takeFinds()`: with a projection or not. */
let finds: Array<{ collection: string; projection: unknown }> = [];

beforeAll(() => {
  rigMongo.mongo.client.on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'find' && collections.includes(String(event.command.find))) finds.push({ collection: String(event.command.find), projection: event.command.projection });
  });
});

/** A new collection name of this file, watched by `takeFinds` and dropped after its tests. */
function collection(name: string): string {
  const full = rigMongo.dropAfter(unique(name));
  collections.push(full);
  return full;
}

function takeFinds(collection: string): string[] {
  const out = finds.filter((f) => f.collection === collection).map((f) => (f.projection === undefined ? 'full' : `only ${Object.entries(f.projection as object).filter(([, v]) => v === 1 || v === true).map(([k]) => k).join(',')}`));
  finds = [];
  return out;
}

/** Events (seq 1..3, adds 1, 10, 100) and a snapshot collection with one snapshot at 1. */
async function rig() {
  const { db, mongo } = rigMongo;
  const events = collection('qevents');
  const snapshots = collection('qsnaps');
  await db.collection(events).insertMany([1, 2, 3].map((seq) => ({ seq, add: 10 ** (seq - 1) })));
  await db.collection(snapshots).insertOne({ _id: 'at-1' as never, position: 1, state: 1, padding: 'x'.repeat(1_000) });
  const source = hydrate({
    snapshot: mongoSnapshot<number, number>({ client: mongo.client, db: TEST_DB, collection: snapshots }),
    events: mongoEvents<{ add: number }>({ client: mongo.client, db: TEST_DB, collection: events, positionField: 'seq' }),
    initial: () => 0,
    reducer: (t: number, e: { add: number }) => t + e.add,
  });
  return { events, snapshots, source };
}

const signal = new AbortController().signal;

/** The revalidation's answer: 'unchanged', or the new value. */
async function revalidate(source: StateSource<number>, known: Known<number>): Promise<'unchanged' | Loaded<number>> {
  return source.revalidate!(known, signal);
}

describe('mongoSnapshot: quiet revalidations while its own event stays archived', () => {
  it('reads _id and position alone until they change, then the state once', async () => {
    const { db } = rigMongo;
    const { events, snapshots, source } = await rig();
    const clock = manualClock();
    const cache = defineState({ sources: { total: source }, maxAgeMs: 1_000, now: clock.now });
    const first = await cache.get();
    expect(first.total).toBe(111);

    // A snapshot at 3 written, every event up to it archived: the quiet steady state.
    await db.collection(snapshots).insertOne({ _id: 'at-3' as never, position: 3, state: 111, padding: 'x'.repeat(100_000) });
    await db.collection(events).deleteMany({});
    takeFinds(snapshots);
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      expect(await cache.get()).toBe(first);
    }
    expect(takeFinds(snapshots)).toEqual(['full', 'only _id,position', 'only _id,position']);

    // A newer snapshot (its events archived too): loaded from, by a full read.
    await db.collection(snapshots).insertOne({ _id: 'at-5' as never, position: 5, state: 11_111 });
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(11_111);
    expect(takeFinds(snapshots)).toEqual(['only _id,position', 'full']);
  });

  it('sees the newest updated in place (same count), deleted, replaced at its position, and without position', async () => {
    const { db } = rigMongo;
    const { events, snapshots, source } = await rig();
    let known = (await source.load(signal)) as Known<number>;
    expect(known.value).toBe(111);
    await db.collection(snapshots).insertOne({ _id: 'newest' as never, position: 3, state: 111 });
    await db.collection(events).deleteMany({});
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');
    takeFinds(snapshots);

    // Updated in place to a later position: two documents before and after.
    await db.collection(snapshots).updateOne({ _id: 'newest' as never }, { $set: { position: 4, state: 1_111 } });
    const updated = await revalidate(source, known);
    expect(updated).toMatchObject({ value: 1_111, version: { position: 4 } });
    expect(takeFinds(snapshots)).toEqual(['only _id,position', 'full']);
    known = updated as Known<number>;
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');
    // Nothing confirmed at 4 yet: read in full once, then _id and position alone.
    expect(takeFinds(snapshots)).toEqual(['full', 'only _id,position']);

    // Moved again (same count) after being confirmed: the position read alone tells it.
    await db.collection(snapshots).updateOne({ _id: 'newest' as never }, { $set: { position: 6, state: 111_111 } });
    const moved = await revalidate(source, known);
    expect(moved).toMatchObject({ value: 111_111, version: { position: 6 } });
    expect(takeFinds(snapshots)).toEqual(['only _id,position', 'full']);
    known = moved as Known<number>;
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');

    // Replaced by another document at the same position: read in full (the cached state stays, as it would).
    await db.collection(snapshots).deleteOne({ _id: 'newest' as never });
    await db.collection(snapshots).insertOne({ _id: 'replacement' as never, position: 6, state: 111_111 });
    takeFinds(snapshots);
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(takeFinds(snapshots)).toEqual(['only _id,position', 'full']);
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(takeFinds(snapshots)).toEqual(['only _id,position']);

    // The newest deleted: the older one (at 1) is newest now — events this instance applied are gone.
    await db.collection(snapshots).deleteOne({ _id: 'replacement' as never });
    await expect(revalidate(source, known)).rejects.toThrow(/the snapshot is at position 1/);

    // A newest snapshot without position fails as a full read does.
    await db.collection(snapshots).insertOne({ _id: 'no-position' as never, position: 6, state: 0 });
    expect(await revalidate(source, known)).toBe('unchanged');
    await db.collection(snapshots).updateOne({ _id: 'no-position' as never }, { $unset: { position: '' } });
    await db.collection(snapshots).deleteOne({ _id: 'at-1' as never });
    const failure = await revalidate(source, known).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SourceError);
    expect((failure as Error).message).toMatch(/the newest snapshot has no position/);

    // No snapshot left at all.
    await db.collection(snapshots).deleteMany({});
    await expect(revalidate(source, known)).rejects.toThrow(/there is no snapshot/);
  });
});

describe('mongoSnapshot({ versionDocument }): the quiet check as one lookup of a version the writers bump', () => {
  it('refuses a bad versionDocument with a typed error naming the field', () => {
    const { mongo } = rigMongo;
    const base = { client: mongo.client, collection: 'snaps', filter: { stream: 'a' } };
    expectOptionRefused(() => mongoSnapshot({ ...base, versionDocument: { filter: { _id: 'v' }, field: 'v', feild: 'x' } } as never), 'mongoSnapshot', 'versionDocument.feild', ['collection, filter, field']);
    expectOptionRefused(() => mongoSnapshot({ ...base, versionDocument: { field: 'v' } } as never), 'mongoSnapshot', 'versionDocument.filter');
    // `{}` would match every document: in the snapshots' own collection `$nor: [{}]` leaves every snapshot out.
    expectOptionRefused(() => mongoSnapshot({ ...base, versionDocument: { filter: {}, field: 'v' } }), 'mongoSnapshot', 'versionDocument.filter', ["{ _id: 'version' }"]);
    expectOptionRefused(() => mongoSnapshot({ ...base, versionDocument: { filter: { _id: 'v' }, field: '' } }), 'mongoSnapshot', 'versionDocument.field');
    // In the snapshots' collection with no filter: accepted, the snapshot reads leave the version document out.
    expect(() => mongoSnapshot({ client: mongo.client, collection: 'snaps', versionDocument: { filter: { _id: 'v' }, field: 'v' } })).not.toThrow();
    expect(() => mongoSnapshot({ client: mongo.client, collection: 'snaps', versionDocument: { collection: 'versions', filter: { _id: 'v' }, field: 'v' } })).not.toThrow();
  });

  it('reads the version alone while it stays, and sees every bumped insert, same-count update and delete', async () => {
    const { db, mongo } = rigMongo;
    const events = collection('vevents');
    const snapshots = collection('vsnaps');
    const bump = () => db.collection(snapshots).updateOne({ _id: 'version' as never }, { $inc: { v: 1 } }, { upsert: true });
    await db.collection(events).insertMany([1, 2, 3].map((seq) => ({ seq, add: 10 ** (seq - 1) })));
    await db.collection(snapshots).insertOne({ _id: 'at-1' as never, stream: 'cart', position: 1, state: 1 });
    const source = hydrate({
      snapshot: mongoSnapshot<number, number>({ client: mongo.client, db: TEST_DB, collection: snapshots, filter: { stream: 'cart' }, versionDocument: { filter: { _id: 'version' }, field: 'v' } }),
      events: mongoEvents<{ add: number }>({ client: mongo.client, db: TEST_DB, collection: events, positionField: 'seq' }),
      initial: () => 0,
      reducer: (t: number, e: { add: number }) => t + e.add,
    });
    let known = (await source.load(signal)) as Known<number>;
    expect(known.value).toBe(111);

    // No version document yet: the _id-and-position check, as without the option.
    await db.collection(snapshots).insertOne({ _id: 'at-3' as never, stream: 'cart', position: 3, state: 111 });
    await db.collection(events).deleteMany({});
    takeFinds(snapshots);
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(takeFinds(snapshots)).toEqual(['only v', 'full', 'only v', 'only _id,position']);

    // The writers bump from now on: the version read alone, once confirmed.
    await bump();
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(takeFinds(snapshots)).toEqual(['only v', 'full', 'only v', 'only v']);

    // The newest updated in place to a later position (same count), then bumped.
    await db.collection(snapshots).updateOne({ _id: 'at-3' as never }, { $set: { position: 4, state: 1_111 } });
    await bump();
    const updated = await revalidate(source, known);
    expect(updated).toMatchObject({ value: 1_111, version: { position: 4 } });
    known = updated as Known<number>;
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');
    takeFinds(snapshots);

    // A newer snapshot inserted, then bumped.
    await db.collection(snapshots).insertOne({ _id: 'at-5' as never, stream: 'cart', position: 5, state: 11_111 });
    await bump();
    const inserted = await revalidate(source, known);
    expect(inserted).toMatchObject({ value: 11_111, version: { position: 5 } });
    expect(takeFinds(snapshots)).toEqual(['only v', 'full']);
    known = inserted as Known<number>;
    expect(await revalidate(source, known)).toBe('unchanged');
    expect(await revalidate(source, known)).toBe('unchanged');

    // The newest deleted, then bumped: the older one is newest — events this instance applied are gone.
    await db.collection(snapshots).deleteOne({ _id: 'at-5' as never });
    await bump();
    await expect(revalidate(source, known)).rejects.toThrow(/the snapshot is at position 4/);

    // The version document removed: back to the _id-and-position check, never a stale "unchanged".
    await db.collection(snapshots).insertOne({ _id: 'at-5b' as never, stream: 'cart', position: 5, state: 11_111 });
    await db.collection(snapshots).deleteOne({ _id: 'version' as never });
    expect(await revalidate(source, known)).toBe('unchanged');
    await db.collection(snapshots).updateOne({ _id: 'at-5b' as never }, { $set: { position: 7, state: 1_111_111 } });
    expect(await revalidate(source, known)).toMatchObject({ value: 1_111_111, version: { position: 7 } });
  });

  it('leaves the version document out of the snapshot reads when the snapshots\' filter matches it too', async () => {
    const { db, mongo } = rigMongo;
    const snapshots = collection('vonly');
    const versionDocument = { filter: { _id: 'version' }, field: 'v' };
    // Only the version document: no snapshot yet (a cold start replays from the start), whatever the filter.
    await db.collection(snapshots).insertOne({ _id: 'version' as never, v: 1 });
    for (const filter of [{}, undefined, { v: { $exists: true } }]) {
      const store = mongoSnapshot<number, number>({ client: mongo.client, db: TEST_DB, collection: snapshots, ...(filter ? { filter } : {}), versionDocument });
      expect(await store.read(signal)).toBeUndefined();
    }
    // With a snapshot beside it, the snapshot is read, never the version document.
    await db.collection(snapshots).insertOne({ _id: 'at-2' as never, position: 2, state: 11, v: 0 });
    const store = mongoSnapshot<number, number>({ client: mongo.client, db: TEST_DB, collection: snapshots, filter: {}, versionDocument });
    expect(await store.read(signal)).toEqual({ position: 2, state: 11 });
  });
});
