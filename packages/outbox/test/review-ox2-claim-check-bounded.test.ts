/**
 * Claim-check reads bounded by the pointer's size, adopted objects refreshed, and pointers
 * received without attributes — on moto S3 (and moto SQS for the receive):
 * - a swapped or forged object far larger than its pointer says is refused without being loaded,
 *   by the consumer and by the producer's retry that adopts an existing object, also when the
 *   server ignores the range and its Content-Length lies;
 * - a retry that adopts its object writes it again (If-Match its ETag), so the object's age (what
 *   a lifecycle rule expires by) restarts, keeping its checksum and content type;
 * - a pointer body received with no message attributes (the SDK's default ReceiveMessage) is a
 *   typed error naming the attributes to ask for, not the body.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createQueue, deleteQueue, s3Client, sqsClient, sqsEndpoint } from './sqs-servers.js';
import { countingS3 } from './s3-body-count.js';
import { resolveClaimCheck, s3ClaimCheck } from '../src/s3.js';
import { sqsSender } from '../src/sqs.js';
import { storeClaimCheck } from '../src/sqs/claim-check.js';

const s3 = s3Client();
let bucket: string;
beforeAll(async () => {
  bucket = await createBucket(s3, 'ox2-bounded');
});
afterAll(() => s3.destroy());

const FIVE_MB = 5 * 1024 * 1024;
/** Well under the 5 MB object: at most a few chunks of the body, never the whole of it. */
const READ_BOUND = 256 * 1024;
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

describe('a claim-check object larger than its pointer says is refused unread', () => {
  let key: string;
  beforeAll(async () => {
    key = `forged/${randomBytes(4).toString('hex')}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(FIVE_MB) }));
  });
  const pointerMessage = () => ({
    Body: JSON.stringify({ claimCheck: 1, bucket, key, size: 100, sha256: sha256('x'.repeat(100)) }),
    MessageAttributes: { 'steadyfn.claimCheck': { StringValue: '1', DataType: 'String' } },
  });

  it('the consumer refuses a 5 MB object for a 100-byte pointer, reading none of it', async () => {
    const counting = countingS3();
    await expect(resolveClaimCheck(pointerMessage(), { s3: counting.s3 })).rejects.toMatchObject({
      name: 'ClaimCheckError',
      code: 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH',
      kind: 'object',
      message: expect.stringContaining(`has ${FIVE_MB} bytes, the pointer says 100`),
    });
    expect(counting.gets).toBe(1);
    expect(counting.bodyBytes).toBeLessThan(READ_BOUND);
    counting.s3.destroy();
  });

  it('a server that ignores the range and a lying Content-Length: the read stops just past the size', async () => {
    const counting = countingS3({ lie: { length: 100 } });
    await expect(resolveClaimCheck(pointerMessage(), { s3: counting.s3 })).rejects.toMatchObject({
      code: 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH',
      message: expect.stringContaining('has more than 100 bytes'),
    });
    expect(counting.bodyBytes).toBeGreaterThan(100);
    expect(counting.bodyBytes).toBeLessThan(READ_BOUND);
    counting.s3.destroy();
  });

  it("the producer's retry (object already there) refuses a 5 MB object as a conflict without loading it", async () => {
    const counting = countingS3();
    const claim = s3ClaimCheck({ s3: counting.s3, bucket });
    const outcome = await storeClaimCheck(claim, key, 'x'.repeat(100));
    expect(outcome).toEqual({ ok: false, conflict: true, code: 'PreconditionFailed', retryable: false });
    expect(counting.bodyBytes).toBeLessThan(READ_BOUND);
    counting.s3.destroy();
  });

  it('an object of the pointer size still resolves, read whole (ranged GET of all of it)', async () => {
    const body = `{"ok":"${'y'.repeat(1000)}"}`;
    const exact = `exact/${randomBytes(4).toString('hex')}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: exact, Body: body }));
    const counting = countingS3();
    const message = { body: { claimCheck: 1, bucket, key: exact, size: Buffer.byteLength(body), sha256: sha256(body) }, attributes: { 'steadyfn.claimCheck': '1' } };
    expect(await resolveClaimCheck(message, { s3: counting.s3 })).toBe(body);
    expect(counting.bodyBytes).toBe(Buffer.byteLength(body));
    // An empty object for a non-empty pointer (the range starts past its end: 416) is a mismatch too.
    const empty = `empty/${randomBytes(4).toString('hex')}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: empty, Body: Buffer.alloc(0) }));
    await expect(resolveClaimCheck({ ...message, body: { ...message.body, key: empty } }, { s3: counting.s3 })).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH' });
    counting.s3.destroy();
  });
});

describe('a retry that adopts its claim-check object restarts the object age', () => {
  it('writes the object again: LastModified advances, bytes, checksum and content type kept', async () => {
    const claim = s3ClaimCheck({ s3, bucket, prefix: 'refresh/' });
    const key = `refresh/${randomBytes(4).toString('hex')}`;
    const body = `{"event":"${'z'.repeat(2000)}"}`;
    const first = await storeClaimCheck(claim, key, body);
    expect(first).toMatchObject({ ok: true, adopted: false });
    const head = () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    const before = await head();
    // Last-Modified has a resolution of one second.
    await new Promise((r) => setTimeout(r, 1_100));
    const retry = await storeClaimCheck(claim, key, body);
    expect(retry).toMatchObject({ ok: true, adopted: true });
    const after = await head();
    expect(after.LastModified!.getTime()).toBeGreaterThan(before.LastModified!.getTime());
    expect(after.ContentLength).toBe(Buffer.byteLength(body));
    expect(after.ContentType).toBe('application/octet-stream');
    // Same bytes (the MD5 ETag), and the checksum as before: moto 5.2.5 returns no ChecksumSHA256
    // on HeadObject for a PutObject that gave one (S3 returns it), so it is compared, not required.
    expect(after.ETag).toBe(before.ETag);
    expect(after.ChecksumSHA256).toBe(before.ChecksumSHA256);
    const pointer = (first as { pointer: { size: number; sha256: string } }).pointer;
    expect(await resolveClaimCheck({ body: { claimCheck: 1, ...pointer }, attributes: { 'steadyfn.claimCheck': '1' } }, { s3 })).toBe(body);
  });
});

describe('a pointer received without message attributes (moto SQS)', () => {
  const sqs = sqsClient(sqsEndpoint('moto'));
  let queueUrl: string;
  beforeAll(async () => {
    queueUrl = await createQueue(sqs, 'ox2-no-attributes', { maxBytes: 262_144 });
  });
  afterAll(async () => {
    await deleteQueue(sqs, queueUrl);
    sqs.destroy();
  });

  it('is refused with a typed error naming the attributes to receive; received with them, it resolves', async () => {
    const body = `{"big":"${'b'.repeat(300)}"}`;
    const report = await sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket, thresholdBytes: 0 }) }).send([{ id: `na-${randomBytes(4).toString('hex')}`, body }]);
    expect(report.sent).toHaveLength(1);
    // The SDK's default: no MessageAttributeNames, so no message attributes come back.
    const plain = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
    const bare = plain.Messages![0]!;
    expect(bare.MessageAttributes).toBeUndefined();
    await expect(resolveClaimCheck(bare, { s3 })).rejects.toMatchObject({
      name: 'ClaimCheckError',
      code: 'OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING',
      kind: 'reader',
      status: 500,
      message: expect.stringContaining("MessageAttributeNames: ['steadyfn.claimCheck', 'steadyfn.contentEncoding']"),
    });
    const asked = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 600, WaitTimeSeconds: 1, MessageAttributeNames: ['steadyfn.claimCheck', 'steadyfn.contentEncoding'] }),
    );
    expect(await resolveClaimCheck(asked.Messages![0]!, { s3 })).toBe(body);
    // A body that is no pointer, without attributes, is the body as before.
    expect(await resolveClaimCheck({ Body: '{"claimCheck":"no"}' })).toBe('{"claimCheck":"no"}');
  });
});
