/**
 * Review finding (rvh, left from s50): the OpenWhisk Kafka feed's delivery id
 * `topic/partition/offset` named no cluster, so one action fed by two clusters' topics of one
 * name gave two messages one id, and idempotency replayed the second as the first. The feed's
 * messages carry no cluster and no time (apache/openwhisk-package-kafka `provider/consumer.py`,
 * `__getMessagePayload`: value, topic, partition, offset, key); the action knows the cluster
 * when the feed's `brokers` (`/messaging/kafkaFeed`) or `kafka_brokers_sasl`
 * (`/messaging/messageHubFeed`) is bound as a trigger or action parameter too, as the feed's
 * `isBinaryValue` already is. The messages are the package README's published ones
 * (test/fixtures/openwhisk/published/kafka-feed.json).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../src/openwhisk.js';
import { published, recorder } from './support/published.js';

beforeEach(() => {
  process.env.__OW_ACTIVATION_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  process.env.__OW_ACTION_NAME = '/guest/orders';
  process.env.__OW_DEADLINE = String(Date.now() + 60_000);
});
afterEach(() => {
  for (const name of ['__OW_ACTIVATION_ID', '__OW_ACTION_NAME', '__OW_DEADLINE']) delete process.env[name];
});

async function ids(params: Record<string, unknown>): Promise<Array<string | undefined>> {
  const { seen, fn } = recorder();
  await handler({ logSink: () => undefined }, fn)({ ...published('openwhisk', 'kafka-feed.json'), ...params });
  return seen.map((s) => s.ctx.deliveryId);
}

describe('OpenWhisk Kafka feed delivery id: scoped by the cluster when the action knows it', () => {
  it('two clusters (bound brokers, a list or text): two delivery ids for one topic/partition/offset', async () => {
    expect(await ids({ brokers: ['kafka-a1:9093', 'kafka-a2:9093'] })).toEqual(['kafka-a1:9093,kafka-a2:9093/orders/0/248', 'kafka-a1:9093,kafka-a2:9093/orders/0/249']);
    expect(await ids({ brokers: 'kafka-b1:9093, kafka-b2:9093' })).toEqual(['kafka-b1:9093,kafka-b2:9093/orders/0/248', 'kafka-b1:9093,kafka-b2:9093/orders/0/249']);
    expect(await ids({ kafka_brokers_sasl: ['broker-0.eventstreams.example:9093'] })).toEqual(['broker-0.eventstreams.example:9093/orders/0/248', 'broker-0.eventstreams.example:9093/orders/0/249']);
  });

  it('nothing bound (the feed alone): topic/partition/offset as before', async () => {
    expect(await ids({})).toEqual(['orders/0/248', 'orders/0/249']);
    expect(await ids({ brokers: [] })).toEqual(['orders/0/248', 'orders/0/249']);
  });
});
