/**
 * More replays of bug reports filed against peer configuration loaders, run against
 * @steadyfn/state on the real FerretDB. Each `it` names the report it replays and what went
 * wrong there; the assertion is what a user of this package needs instead. The staleness
 * contract runs on a hand-moved clock. (peer-bug-replays.test.ts holds the first set.)
 */
import { describe, expect, it } from 'vitest';
import { StateError, defineState, mongoQuery } from '../src/index.js';
import { TEST_DB, logLines, manualClock, ownMongo, unique } from './support.js';

const rig = ownMongo();
const collection = rig.dropAfter(unique('peer2-rows'));

describe('peer config-loader bug replays (2, FerretDB)', () => {
  it('adobe/helix-deploy#37 ("getParametersByPath() only returns max 10 parameters"), Bardavon-Health/actions-aws-ssm-params-to-env#56, labd/python-param-store#8: a listing past one page was silently cut short — here a query that grows past `limit` on a reload is never served cut to `limit` rows: the last good (whole) state is kept with a warning, then the load fails naming the limit', async () => {
    const group = unique('grows');
    const rows = rig.db.collection(collection);
    await rows.insertMany(Array.from({ length: 3 }, (_, i) => ({ group, i })));
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { rows: mongoQuery({ client: rig.mongo.client, db: TEST_DB, collection, filter: { group }, sort: { i: 1 }, projection: { _id: 0, i: 1 }, limit: 5 }) },
      maxAgeMs: 1_000,
      staleIfErrorMs: 60_000,
      now: clock.now,
      logger: log.logger,
    });
    const first = await cache.get();
    expect(first).toEqual({ rows: [{ i: 0 }, { i: 1 }, { i: 2 }] });
    // The collection grows past the limit: six rows, where five are allowed.
    await rows.insertMany(Array.from({ length: 3 }, (_, i) => ({ group, i: 3 + i })));
    clock.advance(2_000);
    expect(await cache.get()).toBe(first);
    expect(log.entries().some((e) => e.level === 'warn' && String(e.msg).includes('last good state'))).toBe(true);
    clock.advance(120_000);
    const error = (await cache.get().then(
      (value) => value,
      (e: unknown) => e,
    )) as StateError;
    expect(error).toBeInstanceOf(StateError);
    expect(error.failures).toEqual([expect.objectContaining({ source: 'rows', message: expect.stringContaining('more than 5 documents') })]);
  });
});
