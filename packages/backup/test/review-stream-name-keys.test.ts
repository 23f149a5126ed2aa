/**
 * Review finding: `streamBackup` took a stream name too long for S3's 1,024-byte keys with its
 * prefix (as `snapshotBackup` already refused such a `job`). The lease and checkpoint fitted,
 * but each object key (`streams/<name>/t<timeline>/<hour>/<seq>_<first>_<last>_<sha>.ndjson.gz`)
 * did not: gofakes3 (as S3) refused every write, so every run failed with `StorageError` and
 * the stream was never archived (moto stored the over-long keys). It must be a
 * `ConfigurationError` on `name` (on `stream` for a snapshot marked with it) when the job is
 * defined, and the longest name accepted must write on both servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, configError, db } from './offline-options.js';
import { freshBucket, S3_SERVERS } from './support.js';
import { mongoSource, snapshotBackup, streamBackup, type StreamSource } from '../src/index.js';

const prefix = 'shop/nightly';

/** The longest name `streamBackup` accepts under `storage`, from a name far too long down. */
function longestAccepted(storage: { client: unknown; bucket: string; prefix: string }): string {
  for (let length = 1024; length > 0; length--) {
    const name = 'n'.repeat(length);
    try {
      streamBackup({ name, target: storage as never });
      return name;
    } catch {
      // too long: one shorter
    }
  }
  throw new Error('no name accepted');
}

describe('stream names whose S3 keys cannot fit 1,024 bytes', () => {
  it('are refused when the job is defined, nothing sent', async () => {
    const storage = { client, bucket: 'backups', prefix };
    const name = 'o'.repeat(950);
    const error = await configError(() => streamBackup({ name, target: storage }));
    expect(error.field).toBe('name');
    expect(error.message).toMatch(/1,024 bytes/);
    expect((await configError(() => snapshotBackup({ source: mongoSource({ db: db as never }), target: storage, stream: name }))).field).toBe('stream');
    // The prefix counts: a name that fits alone does not fit under a long prefix.
    const fits = longestAccepted(storage);
    expect(fits.length).toBeGreaterThan(700);
    expect((await configError(() => streamBackup({ name: fits, target: { ...storage, prefix: `${prefix}/${'p'.repeat(100)}` } }))).field).toBe('name');
  });
});

describe.each(S3_SERVERS)('the longest stream name accepted on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    s3 = await freshBucket(server);
  });
  afterAll(() => s3?.drop());

  it('archives records whose positions are as long as a key holds', async () => {
    const storage = { client: s3.client, bucket: s3.bucket, prefix };
    const name = longestAccepted(storage);
    // Positions longer than the key keeps (48 characters of each): the longest object key.
    const records = [1, 2].map((i) => ({ id: `e${i}`, position: `${'p'.repeat(80)}${i}`, time: new Date().toISOString(), op: 'event' as const, payload: { i } }));
    let pulled = false;
    const source: StreamSource = {
      kind: 'test',
      pull: async () => {
        if (pulled) return { records: [], drained: true };
        pulled = true;
        return { records, drained: true };
      },
    };
    const report = await streamBackup({ name, source, target: storage }).run();
    expect(report).toMatchObject({ objects: 1, records: 2 });
  }, 60_000);
});
