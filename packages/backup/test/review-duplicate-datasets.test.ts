/**
 * Review finding: `mongoSource({ collections: ['orders', 'orders'] })` was accepted and each run
 * read the collection twice, as two datasets of one name. A dataset's name keys its segments
 * (`backups/<id>/data/<dataset>/<n>.ndjson.gz`), so the second overwrote the first's objects
 * under a manifest that listed both with their own sizes and checksums: a change between the
 * two reads left a committed backup whose first dataset no longer matched its objects (verify
 * and restore refuse it). Duplicates must be refused up front (`collections`), and a source of
 * any kind whose datasets share a name when the run starts (`source`), nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configError, db as offlineDb } from './offline-options.js';
import { closeMongo, freshBucket, freshDb, listAll, S3_SERVERS } from './support.js';
import { mongoSource, snapshotBackup, type SnapshotSource } from '../src/index.js';

afterAll(closeMongo);

describe('a collection named twice', () => {
  it('is refused when the source is defined', async () => {
    const error = await configError(() => mongoSource({ db: offlineDb as never, collections: ['orders', 'customers', 'orders'] }));
    expect(error.field).toBe('collections');
    expect(error.message).toMatch(/distinct collection names/);
  });
});

describe.each(S3_SERVERS)('a source whose datasets share a name, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    s3 = await freshBucket(server);
  });
  afterAll(() => s3?.drop());

  it('fails the run before anything is written', async () => {
    const db = await freshDb('dupds');
    await db.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
    const base = mongoSource({ db });
    // A custom source (or a wrapper) describing one dataset twice.
    const source: SnapshotSource = Object.create(base, {
      describe: { value: async (signal?: AbortSignal) => {
        const d = await base.describe(signal);
        return { ...d, datasets: [...d.datasets, ...d.datasets] };
      } },
    });
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    const error = await configError(() => snapshotBackup({ source, target: storage }).run());
    expect(error.field).toBe('source');
    expect(error.message).toMatch(/"orders" is there twice/);
    expect((await listAll(s3.client, s3.bucket, 'p/backups/')).length).toBe(0);
  }, 60_000);
});
