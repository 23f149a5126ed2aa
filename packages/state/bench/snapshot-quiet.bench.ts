/**
 * A quiet revalidation of `hydrate` over `mongoEvents` + `mongoSnapshot` where the snapshot's own
 * event was archived and nothing was appended since (each revalidation asks the snapshot again),
 * in the same run, on FerretDB: the default check (the newest document's `_id` and position
 * alone, once confirmed) and the opt-in `versionDocument` check (one `_id` lookup), each against
 * a full read of the snapshot (what `mongoSnapshot` did before, and what a store of yours
 * without the internal check still does). 30 snapshot documents of about 32 KB each, indexed on
 * the position. FerretDB 1.x scans and sorts the collection for any query but an `_id` equality,
 * so the default check saves only the transfer of one state there (on MongoDB with the index,
 * both reads are one index step). Printed and recorded as ratios of p50s (lower is better); no
 * goal asserted.
 *
 *   bash test/services/services.sh start && pnpm vitest bench --run packages/state/bench/snapshot-quiet
 */
import type { MongoClient } from 'mongodb';
import { afterAll, test } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { recordBench } from '../../../test/support/bench-results.js';
import { hydrate, mongoEvents, mongoSnapshot, type Known, type SnapshotStore } from '../src/index.js';
import { TEST_DB, mongoClient, unique } from '../test/support.js';

await requireService('mongodb');
const { client } = await mongoClient();
const events = unique('bench-events');
const snapshots = unique('bench-snaps');
const SNAPSHOTS = 30;
const STATE_BYTES = 32 * 1024;

type Cart = { items: string[] };
const bigState = (n: number): Cart => ({ items: Array.from({ length: STATE_BYTES / 64 }, (_, i) => `item-${n}-${i}`.padEnd(60, '.')) });

const db = (c: MongoClient) => c.db(TEST_DB);
await db(client).collection(snapshots).createIndex({ position: -1 });
await db(client)
  .collection(snapshots)
  .insertMany(Array.from({ length: SNAPSHOTS }, (_, i) => ({ stream: 'cart', position: i + 1, state: bigState(i + 1) })));
await db(client).collection(snapshots).insertOne({ _id: 'version' as never, v: 1 });
// Every event archived up to the newest snapshot (its own included): the events collection is empty.
await db(client).collection(events).createIndex({ seq: 1 });

const signal = new AbortController().signal;
const sourceWith = (snapshot: SnapshotStore<Cart, number>) =>
  hydrate({ snapshot, events: mongoEvents<{ add: string }>({ client, db: TEST_DB, collection: events, positionField: 'seq' }), initial: () => ({ items: [] }), reducer: (s: Cart) => s });

const p50 = (result: unknown): number => (result as { latency: { p50?: number } }).latency.p50 ?? Number.NaN;

test('quiet revalidation with the snapshot own event archived: the checks vs the snapshot in full', { timeout: 120_000 }, async ({ bench }) => {
  const base = { client, db: TEST_DB, collection: snapshots, filter: { stream: 'cart' } };
  const store = mongoSnapshot<Cart, number>(base);
  const sources = {
    'default check (_id, position)': sourceWith(store),
    'versionDocument check (one _id lookup)': sourceWith(mongoSnapshot<Cart, number>({ ...base, versionDocument: { filter: { _id: 'version' }, field: 'v' } })),
    // A store of the caller's own over the same documents: hydrate reads it in full each time.
    'snapshot read in full': sourceWith({ read: (s) => store.read(s) }),
  };
  const tasks = [];
  for (const [name, source] of Object.entries(sources)) {
    const known = (await source.load(signal)) as Known<Cart>;
    // Once confirmed (the first revalidation reads in full), every later one is the quiet check.
    if ((await source.revalidate!(known, signal)) !== 'unchanged') throw new Error('the bench state is not quiet');
    tasks.push(
      bench(name, async () => {
        if ((await source.revalidate!(known, signal)) !== 'unchanged') throw new Error('changed');
      }),
    );
  }
  const results = await bench.compare(...tasks, { time: 1_500, warmupTime: 200 });
  const full = p50(results.get('snapshot read in full'));
  const head = p50(results.get('default check (_id, position)'));
  const version = p50(results.get('versionDocument check (one _id lookup)'));
  const setup = `FerretDB, ${SNAPSHOTS} snapshots of ~${STATE_BYTES / 1024} KB indexed on position, events archived (each revalidation also reads the events, one find)`;
  console.log(`[bench] quiet revalidation p50: default check ${head.toFixed(2)} ms = ${(head / full).toFixed(3)}×, versionDocument ${version.toFixed(2)} ms = ${(version / full).toFixed(3)}× the snapshot read in full (${full.toFixed(2)} ms); ${setup}`);
  recordBench(
    { key: 'state.snapshot.mongo.quiet', value: head / full, unit: '×', detail: `default check p50 ${head.toFixed(2)} ms vs ${full.toFixed(2)} ms reading the newest snapshot in full; ${setup}` },
    { key: 'state.snapshot.mongo.version', value: version / full, unit: '×', detail: `versionDocument check p50 ${version.toFixed(2)} ms vs ${full.toFixed(2)} ms reading the newest snapshot in full; ${setup}` },
  );
});

afterAll(async () => {
  await db(client).collection(snapshots).drop().catch(() => undefined);
  await db(client).collection(events).drop().catch(() => undefined);
  await client.close();
});
