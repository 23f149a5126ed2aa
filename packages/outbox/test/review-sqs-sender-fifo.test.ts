/**
 * New-user trial finding: `sqsSender({ fifo: true })` on a queue URL that does not end in
 * `.fifo` was accepted (and `fifo: false` on one that does). SQS names every FIFO queue with the
 * `.fifo` suffix, so the two cannot both be right: the sender would send FIFO fields
 * (`MessageGroupId`, `MessageDeduplicationId`) to a standard queue, or leave them out for a FIFO
 * queue, and every send would fail at run time. Now refused up front: `ConfigurationError`
 * (`CONFIG_INVALID`, field `fifo`).
 *
 * Left as is, on purpose: `maxBatchBytes` above 1 MiB (the service limit is per service and has
 * moved before; a `BatchRequestTooLong` answer lowers it for the sender's life — see
 * test/review2/options.test.ts) and `claimCheck.thresholdBytes: 0` (the TSDoc gives it a meaning:
 * every message larger than 0 bytes, i.e. all of them — test/review-claim-check-threshold-zero.test.ts).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { sqsSender } from '../src/sqs.js';

const client = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const standard = 'https://sqs.us-east-1.amazonaws.com/123456789012/orders';
const fifo = 'https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo';

describe('sqsSender(): fifo agrees with the queue URL', () => {
  it('fifo: true on a URL without .fifo is CONFIG_INVALID naming fifo', () => {
    expectOptionRefused(() => sqsSender({ client, queueUrl: standard, fifo: true }), 'sqsSender', 'fifo', ['.fifo']);
  });

  it('fifo: false on a URL ending in .fifo is CONFIG_INVALID naming fifo', () => {
    expectOptionRefused(() => sqsSender({ client, queueUrl: fifo, fifo: false }), 'sqsSender', 'fifo', ['.fifo']);
  });

  it('a fifo that matches the URL, or none, passes', () => {
    expect(sqsSender({ client, queueUrl: fifo, fifo: true }).fifo).toBe(true);
    expect(sqsSender({ client, queueUrl: standard, fifo: false }).fifo).toBe(false);
    expect(sqsSender({ client, queueUrl: fifo }).fifo).toBe(true);
    expect(sqsSender({ client, queueUrl: standard }).fifo).toBe(false);
  });
});
