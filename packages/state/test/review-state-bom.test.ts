/**
 * Review: a JSON file saved with a UTF-8 byte order mark (Windows editors, PowerShell's
 * `Out-File`, many export tools do) and uploaded to S3 failed every load: `s3Json` —
 * "the object is not valid JSON (at character 0)" — and `s3Ndjson` on its first line, as did a
 * Redis key holding such text. The mark is not part of the text (RFC 8259 §8.1 lets a parser
 * ignore it); it is skipped now. Against moto (S3) and the shared Redis.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { defineState, redisKey } from '../src/index.js';
import { s3Json, s3Ndjson } from '../src/s3.js';
import { ownBucket, unique } from './support.js';

const BOM = '\uFEFF';
const rig = ownBucket('bom', { redis: true });
const { bucket, redisKeys } = rig;

describe('a UTF-8 byte order mark before the JSON', () => {
  it('s3Json', async () => {
    await rig.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', Body: Buffer.from(`${BOM}{"retries":3}`, 'utf8') }));
    const cache = defineState({ sources: { config: s3Json({ client: rig.s3.client, bucket, key: 'config.json' }) } });
    expect(await cache.get()).toEqual({ config: { retries: 3 } });
  });

  it('s3Ndjson', async () => {
    await rig.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'plans.ndjson', Body: Buffer.from(`${BOM}{"id":1}\r\n{"id":2}\r\n`, 'utf8') }));
    const cache = defineState({ sources: { plans: s3Ndjson({ client: rig.s3.client, bucket, key: 'plans.ndjson' }) } });
    expect(await cache.get()).toEqual({ plans: [{ id: 1 }, { id: 2 }] });
  });

  it('redisKey (json)', async () => {
    const key = unique('bom');
    redisKeys.push(key);
    await rig.redis.set(key, `${BOM}{"retries":4}`);
    const cache = defineState({ sources: { config: redisKey({ client: rig.redis, key }) } });
    expect(await cache.get()).toEqual({ config: { retries: 4 } });
  });

  it('a mark inside the text is still refused (only the leading one is not text)', async () => {
    const key = unique('bom-inside');
    redisKeys.push(key);
    await rig.redis.set(key, `{"retries":${BOM}4}`);
    const cache = defineState({ sources: { config: redisKey({ client: rig.redis, key }) } });
    await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
  });
});
