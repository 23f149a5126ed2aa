/**
 * Review: the README promises a broken JSON body "reported by position or line, not quoted".
 * Only some of V8's messages carry a position ("… at position 6"); for an unexpected token
 * (`{"a":}`, a trailing comma, a stray word) V8 quotes the text instead — which is not repeated —
 * so the failure said only "the object is not valid JSON", with nothing to find the mistake by
 * in a file of thousands of lines. Against moto (S3) and the shared Redis.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { defineState, redisKey, StateError } from '../src/index.js';
import { s3Json } from '../src/s3.js';
import { ownBucket, unique } from './support.js';

const rig = ownBucket('jsonpos', { redis: true });
const { bucket, redisKeys } = rig;

async function failureOf(load: () => Promise<unknown>): Promise<string> {
  const error = await load().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  return (error as StateError).failures[0]!.message;
}

// [body, the offset of the first character that makes it invalid]
const broken: Array<[string, number]> = [
  ['{"token":"hunter2",}', 19],
  ['{"token":"hunter2", "retries": }', 31],
  ['[1, 2, oops]', 7],
  ['{"token":"hunter2"}\n{"second": 1}', 20],
  ['{"a": [1, 2,, 3]}', 12],
];

describe('a broken JSON body is reported by position, not quoted', () => {
  it.each(broken)('s3Json %j', async (body, at) => {
    const key = `${unique('obj')}.json`;
    await rig.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const message = await failureOf(() => defineState({ sources: { config: s3Json({ client: rig.s3.client, bucket, key }) } }).get());
    expect(message).toContain(`is not valid JSON (at character ${at})`);
    expect(message).not.toContain('hunter2');
  });

  it.each(broken)('redisKey %j', async (body, at) => {
    const key = unique('key');
    redisKeys.push(key);
    await rig.redis.set(key, body);
    const message = await failureOf(() => defineState({ sources: { config: redisKey({ client: rig.redis, key }) } }).get());
    expect(message).toContain(`(at character ${at})`);
    expect(message).not.toContain('hunter2');
  });
});
