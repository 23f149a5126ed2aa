/** S3 sources against moto, counting each HTTP request the SDK sent (and its status). */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../../test/services/env.js';
import { createBucket, dropBucket, s3Client, unique, type S3RequestLog } from '../../test/support.js';
import { SourceError } from '../errors.js';
import { defineState, type Known, type StateError } from '../index.js';
import { s3Json, s3Ndjson, s3Object } from '../s3.js';

let s3: S3RequestLog;
const bucket = unique('s3-bucket');
const signal = () => new AbortController().signal;
const known = <T>(loaded: { value: T; version?: unknown }): Known<T> => ({ value: loaded.value, version: loaded.version });
const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

beforeAll(async () => {
  await requireService('s3');
  s3 = s3Client();
  await createBucket(s3.client, bucket);
});

afterAll(async () => {
  if (s3) await dropBucket(s3.client, bucket).catch(() => undefined);
});

describe('s3Json', () => {
  it('loads JSON with its ETag; revalidation is one conditional GET: 304 when unchanged, the new object when not', async () => {
    const key = unique('cfg.json');
    await put(key, '{"n":1}');
    const source = s3Json({ client: s3.client, bucket, key });
    s3.take();
    const loaded = await source.load(signal());
    expect(loaded.value).toEqual({ n: 1 });
    expect(loaded.version).toMatch(/^"[0-9a-f]+"$/);

    expect(await source.revalidate!(known(loaded), signal())).toBe('unchanged');
    await put(key, '{"n":2}');
    s3.take();
    const changed = await source.revalidate!(known(loaded), signal());
    expect(changed).toMatchObject({ value: { n: 2 } });
    expect(changed).not.toMatchObject({ version: loaded.version });
    expect(s3.take()).toEqual([{ command: 'GetObjectCommand', status: 200 }]);
  });

  it('fails on a missing object unless optional; an optional one still missing is unchanged', async () => {
    const key = unique('later.json');
    await expect(s3Json({ client: s3.client, bucket, key }).load(signal())).rejects.toThrow(new SourceError('object does not exist'));
    const optional = s3Json({ client: s3.client, bucket, key, optional: true });
    const loaded = await optional.load(signal());
    expect(loaded).toEqual({ value: undefined, version: null });
    expect(await optional.revalidate!(known(loaded), signal())).toBe('unchanged');
    await put(key, '[1]');
    expect(await optional.revalidate!(known(loaded), signal())).toMatchObject({ value: [1] });
  });

  it('a missing bucket fails the load, optional or not: a misconfiguration, not an object not written yet', async () => {
    const missing = unique('no-such-bucket');
    for (const optional of [false, true]) {
      const error = (await s3Json({ client: s3.client, bucket: missing, key: 'cfg.json', optional }).load(signal()).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(SourceError);
      expect(error.message).toMatch(/^bucket does not exist/);
    }
  });

  it('says where JSON is broken without echoing it', async () => {
    const key = unique('broken.json');
    await put(key, '{"token": sk_live_123}');
    const error = (await s3Json({ client: s3.client, bucket, key }).load(signal()).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^the object is not valid JSON/);
    expect(error.message).not.toContain('sk_live');
  });

  it('refuses objects larger than maxBytes', async () => {
    const key = unique('big.json');
    await put(key, JSON.stringify({ data: 'x'.repeat(2_000) }));
    await expect(s3Json({ client: s3.client, bucket, key, maxBytes: 1_000 }).load(signal())).rejects.toThrow(/larger than maxBytes/);
  });

  it('takes a function that returns the client, and stops on an aborted signal', async () => {
    const key = unique('handle.json');
    await put(key, 'true');
    expect((await s3Json({ client: async () => s3.client, bucket, key }).load(signal())).value).toBe(true);
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await expect(s3Json({ client: s3.client, bucket, key }).load(controller.signal)).rejects.toThrow('deadline');
  });
});

describe('s3Ndjson and s3Object', () => {
  it('reads one JSON value per line, skipping blank lines and CRLF endings', async () => {
    const key = unique('rows.ndjson');
    await put(key, '{"a":1}\r\n\n{"a":2}\n[3]\n');
    expect((await s3Ndjson({ client: s3.client, bucket, key }).load(signal())).value).toEqual([{ a: 1 }, { a: 2 }, [3]]);
  });

  it('names the line that is not JSON, and the source in the state error', async () => {
    const key = unique('bad.ndjson');
    await put(key, '{"a":1}\n{oops\n');
    const cache = defineState({ sources: { rows: s3Ndjson({ client: s3.client, bucket, key }) } });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error.failures).toEqual([
      { source: 'rows', kind: 'load', field: 'rows', message: `s3://${bucket}/${key}: the object: line 2 is not valid JSON (at character 1)` },
    ]);
  });

  it('decodes with your function', async () => {
    const key = unique('list.txt');
    await put(key, 'a\nb');
    expect((await s3Object({ client: s3.client, bucket, key, decode: (t) => t.split('\n') }).load(signal())).value).toEqual(['a', 'b']);
    await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  });
});
