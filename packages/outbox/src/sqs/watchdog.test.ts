/** The watchdog's delayed flush request on both real SQS servers. */
import { afterAll, describe, expect, it } from 'vitest';
import { createQueue, deleteQueue, receiveAll, sqsClient, sqsServers } from '../../test/sqs-servers.js';
import { outboxWatchdog, parseWatchdogMessage } from './watchdog.js';

describe.each(sqsServers({ elasticmq: true }))('outboxWatchdog on $name', ({ name, endpoint }) => {
  const client = sqsClient(endpoint);
  afterAll(() => client.destroy());

  it('sends one message that stays invisible for the delay, then names what to flush', async () => {
    const queueUrl = await createQueue(client, `watchdog-${name}`, { maxBytes: 262_144 });
    try {
      const watchdog = outboxWatchdog({ client, queueUrl, delayMs: 1_500 });
      const started = Date.now();
      await watchdog.arm({ outbox: 'orders', keys: ['order-1', 'order-2', 'order-1'] });
      expect(await receiveAll(client, queueUrl, 1, 500)).toEqual([]);
      const [message] = await receiveAll(client, queueUrl, 1, 5_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(message!.MessageAttributes?.['steadyfn.outboxWatchdog']?.StringValue).toBe('1');
      expect(parseWatchdogMessage(message!.Body)).toEqual({ outbox: 'orders', keys: ['order-1', 'order-2'] });
    } finally {
      await deleteQueue(client, queueUrl);
    }
  });

  it('sends keys holding U+FFFE/U+FFFF (a Redis hash tag may): escaped as the envelope is, read back the same', async () => {
    const queueUrl = await createQueue(client, `watchdog-nonchar-${name}`, { maxBytes: 262_144 });
    try {
      const keys = ['order-\uFFFE', '{tag\uFFFF}-2'];
      // Before, the raw characters went into the body and SQS (fauxqs, as SQS does) refused it: OUTBOX_SQS_WATCHDOG_UNAVAILABLE on every write.
      await outboxWatchdog({ client, queueUrl, delayMs: 0 }).arm({ outbox: 'orders\uFFFE', keys });
      const [message] = await receiveAll(client, queueUrl, 1, 5_000);
      expect(message!.Body).not.toMatch(/[\uFFFE\uFFFF]/);
      expect(parseWatchdogMessage(message!.Body)).toEqual({ outbox: 'orders\uFFFE', keys });
    } finally {
      await deleteQueue(client, queueUrl);
    }
  });
});

describe('outboxWatchdog options and messages', () => {
  const client = sqsClient('http://127.0.0.1:1');
  it('refuses a FIFO relay queue and a delay beyond 15 minutes up front', () => {
    expect(() => outboxWatchdog({ client, queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/relay.fifo' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'queueUrl' }));
    expect(() => outboxWatchdog({ client, queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/relay', delayMs: 900_001 })).toThrow(/delayMs/);
  });
  it('reads only its own messages', () => {
    expect(parseWatchdogMessage('{"watchdog":1,"outbox":"o"}')).toEqual({ outbox: 'o' });
    expect(parseWatchdogMessage({ watchdog: 1, outbox: 'o', keys: ['k'] })).toEqual({ outbox: 'o', keys: ['k'] });
    expect(parseWatchdogMessage('{"outbox":"o"}')).toBeUndefined();
    expect(parseWatchdogMessage('not json')).toBeUndefined();
  });
});
