/**
 * A snapshot run with no more time than its reserve stops before any work (README: "a snapshot
 * `checkpointed` with nothing read"). It used to warn, then still probe S3 (~20 requests), take
 * its lease, write its checkpoint and open the source's cursor: seconds — past a 3 s Lambda's
 * deadline through `handler()` (DEADLINE_EXCEEDED), its lease held for the next invocations
 * (BACKUP_LEASE_HELD). S3 requests are counted by a middleware on the real moto client, source
 * calls by a proxy on a real FerretDB source.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { mongoSource, snapshotBackup, type SnapshotResult } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const tick = () => ({ version: '0', id: unique('evt'), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '1', time: new Date().toISOString(), region: 'us-east-1', resources: ['arn:aws:events:us-east-1:1:rule/nightly'], detail: {} });
/** A Lambda context whose deadline is `ms` from now. */
const lambdaContext = (id: string, ms: number) => {
  const deadline = Date.now() + ms;
  return { awsRequestId: id, functionName: 'backup', getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};

describe('a snapshot run with no time past its reserve', () => {
  it('returns checkpointed with no S3 request and no source call; through a 3 s handler it answers and the next run is not refused', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('beforework');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('beforework') };
    let requests = 0;
    s3.client.middlewareStack.add((next) => async (args) => (requests++, next(args)), { step: 'initialize', name: 'countRequests' });
    const real = mongoSource({ db, collections: ['orders'] });
    const sourceCalls: string[] = [];
    const counted = new Proxy(real, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => (sourceCalls.push(String(prop)), (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    try {
      await db.collection<{ _id: number }>('orders').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i })));
      const job = snapshotBackup({ source: counted, target: storage });
      const deadline = Date.now() + 3_000;
      const started = Date.now();
      const result = await job.run({ remainingMs: () => Math.max(0, deadline - Date.now()) });
      expect(result).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0, resumed: false, strayParts: 0 });
      expect(result.backupId).toBeUndefined();
      expect(requests).toBe(0);
      expect(sourceCalls).toEqual([]);
      // It returned at once rather than working until the deadline (3 s); the bound leaves room for a
      // saturated CI machine (no request and no source call above are the exact proof).
      expect(Date.now() - started).toBeLessThan(2_000);

      // Through the handler with Lambda's default 3 s timeout: an answer, not DEADLINE_EXCEEDED.
      const nightly = handler({}, job);
      const short = (await nightly.aws(tick(), lambdaContext('short-1', 3_000))) as SnapshotResult;
      expect(short).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0 });
      expect(requests).toBe(0);
      // The next invocation, with time, is not refused with BACKUP_LEASE_HELD: it does the work.
      const next = (await nightly.aws(tick(), lambdaContext('long-1', 600_000))) as SnapshotResult;
      expect(next).toMatchObject({ status: 'complete', records: 50, resumed: false });
      expect(requests).toBeGreaterThan(0);
      expect(sourceCalls.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
