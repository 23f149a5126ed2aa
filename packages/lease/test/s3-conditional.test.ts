/**
 * The one conditional PUT of the steadyfn packages (`conditionalPut`, shared with
 * `@steadyfn/backup` through `@steadyfn/lease/internal`), on both S3 servers (moto:
 * S3_ENDPOINT, gofakes3: S3_ALT_ENDPOINT): create-only, replace-if-match, what is read as a
 * refusal (412, and If-Match on a missing key: 404 on S3 and moto, 412 on gofakes3), content
 * type and metadata written as given, and errors that are neither passed through.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { conditionalPut, isNotFound } from '../src/internal-s3.js';
import { useBackend } from './support/backends.js';

describe.each(['s3', 's3-alt'] as const)('conditionalPut on %s', (name) => {
  const backend = useBackend(name);

  it('creates only when absent and replaces only the version it names, answering the new ETag', async () => {
    const { client, bucket } = backend.s3!;
    const key = `cond/${randomUUID()}`;
    const created = await conditionalPut(client, { bucket, key, body: 'one', ifNoneMatch: '*' }, undefined);
    expect(created).toMatchObject({ outcome: 'written', etag: expect.stringMatching(/^"?[0-9a-f]+"?$/) });
    expect(await conditionalPut(client, { bucket, key, body: 'two', ifNoneMatch: '*' }, undefined)).toEqual({ outcome: 'refused' });
    const etag = (created as { etag: string }).etag;
    const replaced = await conditionalPut(client, { bucket, key, body: 'three', ifMatch: etag, contentType: 'text/plain', metadata: { kind: 'test' } }, undefined);
    expect(replaced.outcome).toBe('written');
    expect(await conditionalPut(client, { bucket, key, body: 'four', ifMatch: etag }, undefined)).toEqual({ outcome: 'refused' });
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('three');
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentType).toBe('text/plain');
    expect(head.Metadata).toEqual({ kind: 'test' });
  });

  it('reads If-Match on a missing key as refused (S3 and moto: 404; gofakes3: 412)', async () => {
    const { client, bucket } = backend.s3!;
    expect(await conditionalPut(client, { bucket, key: `cond/${randomUUID()}`, body: 'x', ifMatch: '"0123"' }, undefined)).toEqual({ outcome: 'refused' });
  });

  it('writes unconditionally without a condition, with JSON as the default content type', async () => {
    const { client, bucket } = backend.s3!;
    const key = `cond/${randomUUID()}`;
    expect((await conditionalPut(client, { bucket, key, body: '{}' }, undefined)).outcome).toBe('written');
    expect((await conditionalPut(client, { bucket, key, body: '{"a":1}' }, undefined)).outcome).toBe('written');
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentType).toBe('application/json');
  });

  it('passes other errors through (a missing bucket is not a lost race), and gives up on an aborted signal', async () => {
    const { client } = backend.s3!;
    const error = await conditionalPut(client, { bucket: `missing-${randomUUID()}`, key: 'k', body: 'x', ifNoneMatch: '*' }, undefined).catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(conditionalPut(client, { bucket: backend.s3!.bucket, key: 'k', body: 'x' }, aborted)).rejects.toThrow('stop');
  });
});
