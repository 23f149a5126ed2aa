/**
 * New-user trial finding: `sqsSender({ claimCheck: { thresholdBytes: 0 } })` was accepted (the
 * option's range starts at 0) and its TSDoc gives 0 a meaning — "store in S3 every message whose
 * size exceeds this": every message, the "always claim-check" a producer picks to keep payloads
 * out of SQS. But the sender read it with `||`, so 0 silently became the default (the queue's
 * `MaximumMessageSize`) and small messages went inline. 0 now means what the TSDoc says.
 * Real servers: SQS on moto and fauxqs, S3 on moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsSender } from '../src/sqs.js';
import { createBucket, createQueue, deleteQueue, receiveAll, s3Client, sqsClient, sqsServers } from './sqs-servers.js';
import { resolveClaimCheck, s3ClaimCheck } from '../src/s3.js';

const s3 = s3Client();
let bucket: string;
beforeAll(async () => {
  bucket = await createBucket(s3, 'claims-zero');
});
afterAll(() => s3.destroy());

describe.each(sqsServers())('claimCheck.thresholdBytes: 0 with SQS on $name', ({ name, endpoint }) => {
  const client = sqsClient(endpoint);
  let queueUrl: string;
  beforeAll(async () => {
    queueUrl = await createQueue(client, `claims-zero-${name}`, { maxBytes: 262_144 });
  });
  afterAll(async () => {
    await deleteQueue(client, queueUrl);
    client.destroy();
  });

  it('stores every message in S3, however small, and the consumer resolves each', async () => {
    const sender = sqsSender({ client, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket, prefix: `${name}/zero/`, thresholdBytes: 0 }) });
    const bodies = ['inline', '{"a":1}', 'x'.repeat(2_000)];
    const report = await sender.send(bodies.map((body, i) => ({ id: `zero-${name}-${i}`, body })));
    expect(report.failed).toEqual([]);
    expect(report.sent.map((s) => s.claimCheck !== undefined)).toEqual([true, true, true]);
    const received = await receiveAll(client, queueUrl, 3);
    expect(received.every((m) => m.MessageAttributes?.['steadyfn.claimCheck']?.StringValue === '1')).toBe(true);
    expect((await Promise.all(received.map((m) => resolveClaimCheck(m, { s3 })))).sort()).toEqual([...bodies].sort());
  });
});
