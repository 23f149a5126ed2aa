/**
 * Review: an S3 object whose bytes are not valid UTF-8 (written by a tool in Latin-1, or damaged)
 * loaded without a word: its bytes were decoded with U+FFFD in place of every invalid sequence,
 * so `{"city":"Zürich"}` written in Latin-1 became the state `{ city: 'Z\uFFFDrich' }`, passed a
 * `z.string()` schema and was served. The handler refuses such bytes in a message body
 * (`MALFORMED_EVENT`); the state now refuses them too — the load fails naming the object and the
 * first invalid byte's offset, never the text. Real SDK against moto, as an object with a
 * Content-Length and through `s3Object` with its own decode.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, StateError } from '../src/index.js';
import { s3Json, s3Ndjson, s3Object } from '../src/s3.js';
import { createBucket, dropBucket, s3Client } from './support.js';

const { client } = s3Client();
const bucket = `utf8-${process.pid}-${Date.now().toString(36)}`;
// {"city":"Zürich"} with ü as Latin-1 0xFC (byte 11): not UTF-8.
const latin1 = Buffer.concat([Buffer.from('{"city":"Z'), Buffer.from([0xfc]), Buffer.from('rich"}')]);

beforeAll(async () => {
  await createBucket(client, bucket);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'latin1.json', Body: latin1 }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'latin1.ndjson', Body: Buffer.concat([Buffer.from('{"ok":1}\n'), latin1]) }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'good.json', Body: Buffer.from('\uFEFF{"city":"Zürich"}', 'utf8') }));
});
afterAll(() => dropBucket(client, bucket));

async function failure(source: Parameters<typeof defineState>[0]['sources'][string]): Promise<StateError> {
  const cache = defineState({ sources: { config: source }, schema: z.object({ config: z.any() }) });
  const error = await cache.get().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

describe('an S3 object that is not valid UTF-8', () => {
  it.each([
    ['s3Json', () => s3Json({ client, bucket, key: 'latin1.json' })],
    ['s3Ndjson', () => s3Ndjson({ client, bucket, key: 'latin1.ndjson' })],
    ['s3Object', () => s3Object({ client, bucket, key: 'latin1.json', decode: (text) => text })],
  ])('%s fails the load, naming the first invalid byte, never the text', async (_, make) => {
    const error = await failure(make());
    expect(error.code).toBe('STATE_UNAVAILABLE');
    const message = error.failures[0]!.message;
    expect(message).toMatch(/is not valid UTF-8 \(at byte \d+\)/);
    expect(message).not.toContain('rich');
    expect(error.failures[0]).toMatchObject({ source: 'config', kind: 'load', field: 'config', expected: 'UTF-8 text' });
  });

  it('the offset is that of the first invalid byte', async () => {
    expect((await failure(s3Json({ client, bucket, key: 'latin1.json' }))).failures[0]!.message).toContain('(at byte 10)');
    expect((await failure(s3Ndjson({ client, bucket, key: 'latin1.ndjson' }))).failures[0]!.message).toContain('(at byte 19)');
  });

  it('valid UTF-8 (with a byte order mark) still loads', async () => {
    const cache = defineState({ sources: { config: s3Json<{ city: string }>({ client, bucket, key: 'good.json' }) } });
    expect((await cache.get()).config).toEqual({ city: 'Zürich' });
  });
});
