/**
 * fx2 D4: on a server without If-None-Match (gofakes3; the probe finds `ifNoneMatch: false`),
 * `putIfAbsent` HEADs first, and every 404 added a `HeadBucket` (every stream object, every
 * checkpoint write) — on a server without a HeadBucket route answering 404, every absent object
 * would have been a permanent NoSuchBucket. The HEAD's 404 is taken as the object absent; the
 * PUT that follows names a missing bucket itself (s3-missing-bucket.test.ts). Real servers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { putIfAbsent } from '../src/s3/conditional.js';
import type { S3Location } from '../src/s3/client.js';
import { closeMongo, freshBucket, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('putIfAbsent without If-None-Match, on $name', (server) => {
  it('a new object costs one HEAD and one PUT (no HeadBucket); an existing one one HEAD', async () => {
    const s3 = await freshBucket(server);
    try {
      const sent: string[] = [];
      const client: S3Location['client'] = {
        send: (command: { constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) => {
          sent.push(command.constructor.name);
          return s3.client.send(command as never, options);
        },
      };
      const loc = { client, bucket: s3.bucket, prefix: 'p' };
      expect(await putIfAbsent(loc, { ifNoneMatch: false }, 'p/new.json', '{}')).toMatchObject({ written: true });
      expect(sent).toEqual(['HeadObjectCommand', 'PutObjectCommand']);
      sent.length = 0;
      expect(await putIfAbsent(loc, { ifNoneMatch: false }, 'p/new.json', '{}')).toEqual({ written: false });
      expect(sent).toEqual(['HeadObjectCommand']);
    } finally {
      await s3.drop();
    }
  });
});
