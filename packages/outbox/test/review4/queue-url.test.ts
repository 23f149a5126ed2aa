/**
 * Review finding (misuse): a queue URL that starts with `http(s)://` but is not a URL (a space,
 * nothing after the scheme, an unclosed IPv6 bracket) made `sqsSender()` throw Node's
 * `TypeError [ERR_INVALID_URL]` instead of a `ConfigurationError` naming `queueUrl`;
 * `outboxWatchdog()` and `inbox({ queue })` took any non-empty string (`'orders'`, a queue name) and failed every `arm()`
 * at run time (the inbox only warned, at every seq gap). `outboxWatchdog().arm({ outbox, keys: null })` threw a `TypeError` (reading
 * `length` of null) instead of naming `target.keys`.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOptionRefused } from '../../../../test/support/config-errors.js';
import { redisStore } from '@steadyfn/idempotency';
import { Redis } from 'ioredis';
import { inbox } from '../../src/index.js';
import { inboxQueue, outboxWatchdog, sqsSender } from '../../src/sqs.js';

const sqs = new SQSClient({ region: 'us-east-1' });
const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
afterAll(() => {
  sqs.destroy();
  redis.disconnect();
});

describe('a queue URL that is not a URL is a ConfigurationError naming queueUrl', () => {
  it.each(['http:// bad', 'https://', 'https://[::1/1/q', 'http://a b/1/q.fifo'])('sqsSender(): %j', (queueUrl) => {
    expectOptionRefused(() => sqsSender({ client: sqs, queueUrl }), 'sqsSender', 'queueUrl', ['queue URL']);
  });

  it.each(['orders', 'http:// bad', 'sqs://x/1/q'])('outboxWatchdog(): %j', (queueUrl) => {
    expectOptionRefused(() => outboxWatchdog({ client: sqs, queueUrl }), 'outboxWatchdog', 'queueUrl', ['queue URL']);
  });

  it.each(['orders', 'http:// bad'])('inboxQueue() for inbox({ queue }): %j (was accepted, then only warned about at each seq gap)', (queueUrl) => {
    expectOptionRefused(() => inbox({ store: redisStore({ client: redis }), consumer: 'c', queue: inboxQueue({ client: sqs, queueUrl }) }), 'inboxQueue', 'queueUrl', ['queue URL']);
  });

  it('a queue URL still passes both', () => {
    expect(sqsSender({ client: sqs, queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo' }).fifo).toBe(true);
    expect(typeof outboxWatchdog({ client: sqs, queueUrl: 'http://127.0.0.1:15000/123456789012/relay' }).arm).toBe('function');
  });

  it('arm() with keys that are not an array is a ConfigurationError naming target.keys, nothing sent', async () => {
    const watchdog = outboxWatchdog({ client: sqs, queueUrl: 'http://127.0.0.1:1/123456789012/relay' });
    for (const keys of [null, 7, 'order-1']) {
      await expect(watchdog.arm({ outbox: 'orders', keys: keys as never })).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'target.keys' });
    }
  });
});
