/**
 * Review: `s3Snapshot()` takes `optional` (its options extend those of `s3Json()`), but always
 * loaded as if `optional: true`: with `optional: false` — "this stream has a snapshot; a
 * missing one is an outage, not an empty history" — a missing or mistyped key silently replayed
 * every event from `initial()` (or, with the events trimmed after the snapshot, built a wrong
 * state). `optional: false` now fails the load naming the object; the default stays a missing
 * object meaning no snapshot yet. Against moto.
 */
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, type EventStore } from '../src/index.js';
import { s3Snapshot } from '../src/s3.js';
import { ownBucket } from './support.js';

const rig = ownBucket('snap-optional');
const { bucket } = rig;

/** Events kept in memory: 1 … 3, positions 1 … 3. */
const events: EventStore<number, number> = {
  description: 'memory events',
  readAfter: async (after) => [1, 2, 3].filter((p) => after === undefined || p > after).map((p) => ({ position: p, event: p })),
};

const sum = (snapshotOptional: boolean | undefined) =>
  defineState({
    sources: {
      total: hydrate({
        snapshot: s3Snapshot<number, number>({ client: rig.s3.client, bucket, key: 'missing.json', ...(snapshotOptional === undefined ? {} : { optional: snapshotOptional }) }),
        events,
        initial: () => 0,
        reducer: (total, n) => total + n,
      }),
    },
  });

describe('s3Snapshot({ optional })', () => {
  it('optional: false — a missing snapshot fails the load, naming the object', async () => {
    const error = await sum(false).get().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [expect.objectContaining({ source: 'total', message: expect.stringContaining('object does not exist') })] });
  });

  it('by default (and optional: true) a missing snapshot means none yet: every event is replayed', async () => {
    expect(await sum(undefined).get()).toEqual({ total: 6 });
    expect(await sum(true).get()).toEqual({ total: 6 });
  });
});
