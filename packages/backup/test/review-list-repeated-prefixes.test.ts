/**
 * Review (rvb2) finding: gofakes3 repeats a common prefix across ListObjectsV2 pages (with
 * delimiter '/', 1,003 backup ids: the 1,000th page boundary lists one id on both pages).
 * `listKeys` appended every page's prefixes unchecked, so `listBackupIds` listed that backup
 * twice — and the stream sweep of retention, which lists streams the same way, would sweep one
 * twice and overcount. (A page that ends inside a prefix, at its first key, repeats it.) A listing must return each common prefix once.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { listKeys } from '../src/s3/client.js';
import { listBackupIds } from '../src/restore/load.js';
import { freshBucket, S3_SERVERS } from './support.js';

const IDS = 1003;
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

/** Runs `work` for 0..count-1, at most `limit` at once. */
async function inParallel(count: number, limit: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < count) await work(next++);
  }));
}

describe.each(S3_SERVERS)('listKeys: each common prefix once across pages, on $name', (server) => {
  it(`lists ${IDS} backup ids once each`, async () => {
    const s3 = await freshBucket(server);
    drops.push(s3.drop);
    const ids = Array.from({ length: IDS }, (_, i) => `id-${String(i).padStart(5, '0')}`);
    // Two objects per backup, as a real one has: a page that ends inside a prefix is where gofakes3 repeats it.
    const files = ['manifest.json', 'verification.json'];
    await inParallel(IDS * files.length, 16, (i) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/${ids[i >> 1]}/${files[i & 1]}`, Body: '{}' })));
    const loc = { client: s3.client, bucket: s3.bucket, prefix: 'p' };

    const listed = await listKeys(loc, 'p/backups/', { delimiter: '/' });
    expect(listed.complete).toBe(true);
    expect(listed.prefixes.length).toBe(IDS);
    expect(new Set(listed.prefixes).size).toBe(IDS);
    expect(await listBackupIds(loc)).toEqual(ids);
  }, 120_000);
});
