/**
 * Review: in the quiet steady state after every event up to the snapshot was archived (its own
 * included, nothing appended since), each revalidation read the whole snapshot again (an S3 GET
 * and the JSON parse of the state) to find it unchanged. Now an `s3Snapshot` confirmed at the
 * position applied last is asked again with its ETag (a 304, no body) until it changes; a newer
 * snapshot is still loaded from. Against moto S3 and FerretDB.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, mongoEvents } from '../src/index.js';
import { s3Snapshot } from '../src/s3.js';
import { TEST_DB, manualClock, ownBucket, ownMongo, unique } from './support.js';

const rig = ownBucket('gone-snap-reads');
const mongoRig = ownMongo();
const collection = mongoRig.dropAfter(unique('gonesnap'));

const putSnapshot = (position: number, state: number) =>
  rig.s3.client.send(new PutObjectCommand({ Bucket: rig.bucket, Key: 'snap.json', Body: JSON.stringify({ position, state }) }));

describe('hydrate(): snapshot reads while its own event stays archived', () => {
  it('the snapshot confirmed at the position applied last is asked with its ETag (304) until it changes', async () => {
    await mongoRig.db.collection(collection).insertMany([1, 2, 3].map((seq) => ({ seq, add: 10 ** (seq - 1) })));
    await putSnapshot(1, 1);
    const clock = manualClock();
    const cache = defineState({
      sources: {
        total: hydrate({
          snapshot: s3Snapshot<number, number>({ client: rig.s3.client, bucket: rig.bucket, key: 'snap.json' }),
          events: mongoEvents<{ add: number }>({ client: mongoRig.mongo.client, db: TEST_DB, collection, positionField: 'seq' }),
          initial: () => 0,
          reducer: (t: number, e: { add: number }) => t + e.add,
        }),
      },
      maxAgeMs: 1_000,
      now: clock.now,
    });
    const first = await cache.get();
    expect(first.total).toBe(111);

    // A snapshot at 3 written, every event up to it archived: the quiet steady state.
    await putSnapshot(3, 111);
    await mongoRig.db.collection(collection).deleteMany({});
    rig.s3.take();
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      expect(await cache.get()).toBe(first);
    }
    expect(rig.s3.take().map((r) => r.status)).toEqual([200, 304, 304]);

    // A newer snapshot (its events archived too): loaded from, by a full read.
    await putSnapshot(5, 11_111);
    clock.advance(1_000);
    expect((await cache.get()).total).toBe(11_111);
  });
});
