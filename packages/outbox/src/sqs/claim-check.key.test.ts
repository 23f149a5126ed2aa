/**
 * Claim-check keys within S3's 1024-byte key limit, on moto and gofakes3. The key was prefix +
 * message id whatever their length: a long prefix (up to 896 bytes is enough with an id of 128)
 * made keys S3 refuses, so every large message of that sender failed its store, retried forever.
 * Now prefix + id is kept when it fits and becomes prefix + SHA-256(id) in hex when it would not,
 * and a prefix that alone leaves no room for that (over 960 bytes, UTF-8) is refused by
 * `s3ClaimCheck()` / `sqsSender()` at options time, naming the field.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBucket, createQueue, deleteQueue, receiveAll, s3Client, sqsClient, sqsServers } from '../../test/sqs-servers.js';
import { resolveClaimCheck, s3ClaimCheck } from '../s3.js';
import { sqsSender } from './sender.js';

const hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
/** A prefix of exactly `bytes` UTF-8 bytes, with two-byte characters (so characters ≠ bytes). */
const prefixOf = (bytes: number) => `c/${'é'.repeat((bytes - 3) >> 1)}${'x'.repeat(1 + ((bytes - 3) & 1))}`;
/** A message id of SQS's longest (128 printable ASCII characters). */
const longId = (seed: string) => `${seed}-`.padEnd(128, 'i');

function refusal(fn: () => unknown): { code: string; field: string; message: string; issues: unknown } {
  try {
    fn();
  } catch (error) {
    return error as never;
  }
  throw new Error('no error');
}

describe('a claim-check prefix too long for any S3 key is refused at options time', () => {
  const s3 = new S3Client({ region: 'us-east-1' });
  const sqs = new SQSClient({ region: 'us-east-1' });
  afterAll(() => {
    s3.destroy();
    sqs.destroy();
  });

  it('s3ClaimCheck(): over 960 bytes (UTF-8, not characters) is CONFIG_INVALID naming "prefix", never quoting it; 960 is taken', () => {
    expect(Buffer.byteLength(prefixOf(960))).toBe(960);
    expect(s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix: prefixOf(960) }).prefix).toBe(prefixOf(960));
    for (const prefix of [prefixOf(961), 'é'.repeat(481), 'p'.repeat(5000)]) {
      const error = refusal(() => s3ClaimCheck({ s3, bucket: 'claims-bucket', prefix }));
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'prefix', issues: [{ field: 'prefix', expected: 'a string of at most 960 bytes (UTF-8)' }] });
      expect(error.message).toContain(`got a string of ${Buffer.byteLength(prefix)} bytes`);
      expect(error.message).not.toContain(prefix.slice(0, 20));
    }
  });

  it('sqsSender(): a claim check of that shape made by hand is refused naming "claimCheck.prefix"', () => {
    const claimCheck = { ...s3ClaimCheck({ s3, bucket: 'claims-bucket' }), prefix: prefixOf(1000) };
    expect(refusal(() => sqsSender({ client: sqs, queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', claimCheck }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'claimCheck.prefix' });
  });
});

describe.each([
  { s3Name: 'moto', s3Endpoint: undefined },
  { s3Name: 'gofakes3', s3Endpoint: process.env.S3_ALT_ENDPOINT ?? 'http://127.0.0.1:15100' },
])('claim-check keys at S3 $s3Name: never over 1024 bytes', ({ s3Name, s3Endpoint }) => {
  const store = s3Client(s3Endpoint);
  const client = sqsClient(sqsServers()[0]!.endpoint);
  let queueUrl: string;
  let bucket: string;
  beforeAll(async () => {
    bucket = await createBucket(store, 'claims-keylen');
  });
  // A queue per test: a message one test left behind is never another's.
  beforeEach(async () => {
    queueUrl = await createQueue(client, `claims-keylen-${s3Name}`, { maxBytes: 262_144 });
  });
  afterEach(async () => {
    await deleteQueue(client, queueUrl);
  });
  afterAll(() => {
    client.destroy();
    store.destroy();
  });
  const sender = (prefix: string) => sqsSender({ client, queueUrl, claimCheck: s3ClaimCheck({ s3: store, bucket, prefix, thresholdBytes: 0 }) });

  it('prefix + id over 1024 bytes: stored under prefix + SHA-256(id), the consumer resolves it, a retry adopts it', async () => {
    const prefix = prefixOf(960);
    const id = longId(`long-${s3Name}`);
    const body = `{"big":"${'b'.repeat(2000)}"}`;
    const report = await sender(prefix).send([{ id, body }]);
    expect(report.failed).toEqual([]);
    const key = report.sent[0]!.claimCheck!.key;
    expect(key).toBe(prefix + hex(id));
    expect(Buffer.byteLength(key)).toBe(1024);
    expect((await store.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength).toBe(Buffer.byteLength(body));
    const [message] = await receiveAll(client, queueUrl, 1);
    expect(await resolveClaimCheck(message!, { s3: store })).toBe(body);
    // The same id again (a relay retry): the same key, the object adopted, not a conflict.
    const again = await sender(prefix).send([{ id, body }]);
    expect(again.failed).toEqual([]);
    expect(again.sent[0]!.claimCheck).toEqual(report.sent[0]!.claimCheck);
  });

  it('prefix + id within 1024 bytes: the key is still exactly prefix + id (up to the last byte)', async () => {
    const id = longId(`fits-${s3Name}`);
    const prefix = prefixOf(1024 - id.length);
    const report = await sender(prefix).send([{ id, body: 'small' }]);
    expect(report.failed).toEqual([]);
    expect(report.sent[0]!.claimCheck!.key).toBe(prefix + id);
    const [message] = await receiveAll(client, queueUrl, 1);
    expect(await resolveClaimCheck(message!, { s3: store })).toBe('small');
  });
});
