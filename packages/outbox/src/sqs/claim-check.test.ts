/**
 * Claim check on real servers: S3 on moto (S3_ENDPOINT), SQS on moto and on fauxqs, with a
 * 256 KiB queue so a 300 KiB event must travel through S3.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createQueue, deleteQueue, receiveAll, s3Client, sqsClient, sqsServers } from '../../test/sqs-servers.js';
import { sqsSender } from './sender.js';
import { resolveClaimCheck, s3ClaimCheck } from '../s3.js';

const s3 = s3Client();
let bucket: string;
beforeAll(async () => {
  bucket = await createBucket(s3, 'claims');
});
afterAll(() => s3.destroy());

const big = (seed: string, bytes = 300 * 1024) => `{"seed":"${seed}","pad":"${'p'.repeat(bytes - 22 - seed.length)}"}`;

describe.each(sqsServers())('claim check with SQS on $name and S3 on moto', ({ name, endpoint }) => {
  const client = sqsClient(endpoint);
  let queueUrl: string;
  beforeAll(async () => {
    queueUrl = await createQueue(client, `claims-${name}`, { maxBytes: 262_144 });
  });
  afterAll(async () => {
    await deleteQueue(client, queueUrl);
    client.destroy();
  });
  const sender = () => sqsSender({ client, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}/` }) });

  it('stores a message too large for the queue in S3 and sends a pointer the consumer resolves and verifies', async () => {
    const body = big('round-trip');
    const report = await sender().send([{ id: `rt-${name}`, body, attributes: { seq: '3' } }]);
    expect(report.failed).toEqual([]);
    const pointer = report.sent[0]!.claimCheck!;
    expect(pointer).toEqual({ bucket, key: `${name}/rt-${name}`, size: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') });
    const [message] = await receiveAll(client, queueUrl, 1);
    expect(message!.MessageAttributes?.['steadyfn.claimCheck']?.StringValue).toBe('1');
    expect(message!.MessageAttributes?.seq?.StringValue).toBe('3');
    expect(JSON.parse(message!.Body!)).toEqual({ claimCheck: 1, ...pointer });
    expect(await resolveClaimCheck(message!, { s3 })).toBe(body);
    // The same message as @steadyfn/handler hands it over (body parsed, attributes as strings) and as a Lambda record.
    expect(await resolveClaimCheck({ body: JSON.parse(message!.Body!), attributes: { 'steadyfn.claimCheck': '1' } }, { s3 })).toBe(body);
    expect(await resolveClaimCheck({ body: message!.Body!, messageAttributes: { 'steadyfn.claimCheck': { stringValue: '1' } } }, { s3 })).toBe(body);
  });

  it('refuses a tampered object (same size, other bytes), a truncated one and a missing one with typed errors', async () => {
    const body = big('tamper');
    const report = await sender().send([{ id: `tamper-${name}`, body }]);
    const pointer = report.sent[0]!.claimCheck!;
    const [message] = await receiveAll(client, queueUrl, 1);
    const put = (bytes: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: pointer.key, Body: bytes }));
    await put(body.replace('tamper', 'tampor'));
    await expect(resolveClaimCheck(message!, { s3 })).rejects.toMatchObject({ name: 'ClaimCheckError', code: 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH', kind: 'object', status: 500, retryable: false });
    await put(body.slice(1));
    await expect(resolveClaimCheck(message!, { s3 })).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH', kind: 'object', status: 500 });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: pointer.key }));
    await expect(resolveClaimCheck(message!, { s3 })).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_MISSING', kind: 'object', status: 500 });
    // Without a reader: the deployment's fault (500), logged naming the option, not a malformed pointer.
    await expect(resolveClaimCheck(message!)).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_NO_READER', kind: 'reader', status: 500, logFields: { field: 's3' } });
    // A malformed pointer: the message's own fault (400), whoever reads it.
    for (const reader of [{ s3 }, undefined]) {
      await expect(resolveClaimCheck({ ...message!, Body: 'not a pointer' }, reader)).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_INVALID', kind: 'pointer', status: 400 });
      await expect(resolveClaimCheck({ ...message!, Body: '{"claimCheck":2}' }, reader)).rejects.toMatchObject({ code: 'OUTBOX_SQS_CLAIM_CHECK_INVALID', kind: 'pointer', status: 400 });
    }
  });

  it('a retry adopts the identical object it stored before (If-None-Match: *), a different existing object is a conflict', async () => {
    const body = big('retry');
    const first = await sender().send([{ id: `again-${name}`, body }]);
    const second = await sender().send([{ id: `again-${name}`, body }]);
    expect(second.failed).toEqual([]);
    expect(second.sent[0]!.claimCheck).toEqual(first.sent[0]!.claimCheck);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${name}/conflict-${name}`, Body: 'someone else' }));
    const conflict = await sender().send([{ id: `conflict-${name}`, body }, { id: `after-${name}`, body: 'small' }]);
    expect(conflict.failed).toEqual([expect.objectContaining({ id: `conflict-${name}`, code: 'OUTBOX_SQS_CLAIM_CHECK_CONFLICT', senderFault: true, retryable: false })]);
    expect(conflict.sent.map((s) => s.id)).toEqual([`after-${name}`]);
    // The other object was not overwritten.
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${name}/conflict-${name}` }));
    expect(await kept.Body!.transformToString()).toBe('someone else');
    await receiveAll(client, queueUrl, 3, 2_000);
  });

  it('offloads above thresholdBytes, carries bodies SQS would refuse, and leaves small messages inline', async () => {
    const s = sqsSender({ client, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}/t/`, thresholdBytes: 10_000 }) });
    const withControl = `ctl\u0001${'q'.repeat(20_000)}`;
    const report = await s.send([
      { id: `small-${name}`, body: 'inline' },
      { id: `mid-${name}`, body: 'm'.repeat(10_001) },
      { id: `ctl-${name}`, body: withControl },
    ]);
    expect(report.failed).toEqual([]);
    expect(report.sent.map((x) => [x.id, x.claimCheck !== undefined])).toEqual([
      [`small-${name}`, false],
      [`mid-${name}`, true],
      [`ctl-${name}`, true],
    ]);
    const received = await receiveAll(client, queueUrl, 3);
    const resolved = await Promise.all(received.map((m) => resolveClaimCheck(m, { s3 })));
    expect(resolved.sort()).toEqual(['inline', 'm'.repeat(10_001), withControl].sort());
  });

  it('without a claim check, a message too large for the queue fails as a sender fault before any call', async () => {
    const report = await sqsSender({ client, queueUrl }).send([{ id: `nocc-${name}`, body: big('none') }]);
    expect(report.failed).toEqual([expect.objectContaining({ code: 'OUTBOX_SQS_MESSAGE_TOO_LARGE', senderFault: true })]);
    expect(report.batches).toBe(0);
  });
});

/**
 * A prefix with a leading '/' or '//' inside: S3 keys are exact strings (`/claims//x/a`,
 * `claims/x/a` and `claims//x/a` are three objects), and the SDK sends them as they are. The
 * claim check uses the prefix as given — not normalised, not refused — and the consumer reads
 * the key the pointer names: the object it wrote, on both S3 servers.
 */
describe.each([
  { s3Name: 'moto', s3Endpoint: undefined },
  { s3Name: 'gofakes3', s3Endpoint: process.env.S3_ALT_ENDPOINT ?? 'http://127.0.0.1:15100' },
])('a prefix with slashes S3 keeps, on S3 $s3Name', ({ s3Name, s3Endpoint }) => {
  const store = s3Client(s3Endpoint);
  const client = sqsClient(sqsServers()[0]!.endpoint);
  let queueUrl: string;
  let own: string;
  beforeAll(async () => {
    [queueUrl, own] = await Promise.all([createQueue(client, `claims-slash-${s3Name}`, { maxBytes: 262_144 }), createBucket(store, 'claims-slash')]);
  });
  afterAll(async () => {
    await deleteQueue(client, queueUrl);
    client.destroy();
    store.destroy();
  });

  it('stores under the exact key prefix + id, and the consumer resolves that object', async () => {
    const prefix = '/claims//x/';
    // An object at the normalised key first: the pointer must not lead there.
    await store.send(new PutObjectCommand({ Bucket: own, Key: 'claims/x/slash', Body: 'not this one' }));
    const report = await sqsSender({ client, queueUrl, claimCheck: s3ClaimCheck({ s3: store, bucket: own, prefix, thresholdBytes: 0 }) }).send([{ id: 'slash', body: 'the body' }]);
    expect(report.failed).toEqual([]);
    expect(report.sent[0]!.claimCheck!.key).toBe('/claims//x/slash');
    const listed = await store.send(new ListObjectsV2Command({ Bucket: own }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(['/claims//x/slash', 'claims/x/slash']);
    const [message] = await receiveAll(client, queueUrl, 1);
    expect(await resolveClaimCheck(message!, { s3: store })).toBe('the body');
  });
});
