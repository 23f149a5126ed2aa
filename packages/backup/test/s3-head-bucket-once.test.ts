/**
 * fxb item 1, on moto and gofakes3: `headObject`'s 404 is checked against the bucket
 * (`confirmBucket`, missing-bucket.ts), and every 404 sent a `HeadBucket` — a retention sweep,
 * a restore's load or the completed-segment check meeting N absent objects paid N extra
 * round-trips. The bucket is confirmed once per `S3Location` (a run builds one): N absent
 * objects cost N HEADs and one `HeadBucket`; a new location (the next run) asks again, so a
 * bucket deleted since is still the permanent `StorageError` naming it, and within the run a
 * deleted bucket surfaces at its next write or listing (S3's `NoSuchBucket`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../src/index.js';
import { headObject, listKeys, putObject, type S3Location } from '../src/s3/client.js';
import { closeMongo, freshBucket, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/** `client`, recording the class name of every command sent through it. */
function recording(client: S3Location['client']): { client: S3Location['client']; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    client: {
      send: (command: { constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) => {
        sent.push(command.constructor.name);
        return client.send(command, options);
      },
    },
  };
}

const count = (sent: string[], name: string): number => sent.filter((s) => s === name).length;

describe.each(S3_SERVERS)('headObject of absent objects, on $name', (server) => {
  it('N absent objects under one location: N HeadObject, one HeadBucket; a new location asks again', async () => {
    const s3 = await freshBucket(server);
    try {
      const { client, sent } = recording(s3.client);
      const loc: S3Location = { client, bucket: s3.bucket, prefix: 'p' };
      await putObject(loc, 'p/there.json', '{}');
      sent.length = 0;
      for (let i = 0; i < 5; i++) expect(await headObject(loc, `p/missing-${i}.json`)).toBeUndefined();
      expect(await headObject(loc, 'p/there.json')).toMatchObject({ size: 2 });
      expect(count(sent, 'HeadObjectCommand')).toBe(6);
      expect(count(sent, 'HeadBucketCommand')).toBe(1);
      sent.length = 0;
      // The next run builds its own location: the bucket is confirmed again, once.
      const next: S3Location = { client, bucket: s3.bucket, prefix: 'p' };
      for (let i = 0; i < 3; i++) expect(await headObject(next, `p/missing-${i}.json`)).toBeUndefined();
      expect(count(sent, 'HeadBucketCommand')).toBe(1);
    } finally {
      await s3.drop();
    }
  });

  it('a bucket deleted after it was confirmed: the next location names it, and in the same run a listing or write meets NoSuchBucket', async () => {
    const s3 = await freshBucket(server);
    const loc: S3Location = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    expect(await headObject(loc, 'p/missing.json')).toBeUndefined();
    await s3.drop();
    const fresh = await headObject({ ...loc }, 'p/missing.json').catch((e: unknown) => e);
    expect(fresh).toBeInstanceOf(StorageError);
    expect(fresh).toMatchObject({ retryable: false, bucket: s3.bucket });
    expect((fresh as Error).message).toContain(`"${s3.bucket}" does not exist`);
    await expect(listKeys(loc, 'p/')).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await expect(putObject(loc, 'p/after.json', '{}')).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
