/**
 * Ordering keys of ordered queues on `ctx.trigger`: an SQS FIFO message's `MessageGroupId`,
 * `SequenceNumber` and `MessageDeduplicationId` (published Powertools and EventBridge Pipes
 * samples, Lambda entries), and a Pub/Sub message's `orderingKey` (the Functions Framework,
 * google-cloudevents' PubsubMessage). A standard queue's message has none of them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';
import { recorder, runOnAwsEntries, sample } from './support/published.js';

afterAll(closeServers);

describe('ordered queues: group, sequence and deduplication ids on the trigger', () => {
  it('SQS FIFO (Powertools sqs-sns-event-fifo): groupId, sequenceNumber, deduplicationId', async () => {
    const { seen } = await runOnAwsEntries(sample('aws', 'pt-sqs-sns-event-fifo.json'));
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.ctx.trigger).toMatchObject({
        kind: 'queue',
        source: 'sqs',
        groupId: 'powertools-test',
        sequenceNumber: '18873177232222703872',
        deduplicationId: '4e0a0f61eed277a4b9e4c01d5722b07b0725e42fe782102abee5711adfac701f',
      });
    }
  });

  it('SQS FIFO through EventBridge Pipes (the User Guide example)', async () => {
    const { seen } = await runOnAwsEntries(sample('aws', 'ebpipes-sqs-fifo.json'));
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.ctx.trigger).toMatchObject({ groupId: '1', sequenceNumber: '18849496460467696128', deduplicationId: '1' });
  });

  it('a standard SQS queue (Powertools sqs-base): none of them', async () => {
    const { seen } = await runOnAwsEntries(sample('aws', 'pt-sqs-base.json'));
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.ctx.trigger).not.toHaveProperty('groupId');
      expect(s.ctx.trigger).not.toHaveProperty('sequenceNumber');
      expect(s.ctx.trigger).not.toHaveProperty('deduplicationId');
    }
  });

  it('Pub/Sub with an ordering key: groupId; without one: none', async () => {
    for (const [orderingKey, expected] of [['customer-42', 'customer-42'], [undefined, undefined], ['', undefined]] as const) {
      const { seen, fn } = recorder();
      const url = await serve('cloudEvent', handler({ logSink: () => undefined }, fn));
      const message = { messageId: 'm-1', publishTime: '2026-12-02T00:00:00Z', data: Buffer.from('{"a":1}').toString('base64'), ...(orderingKey === undefined ? {} : { orderingKey }) };
      const ce = { specversion: '1.0', type: 'google.cloud.pubsub.topic.v1.messagePublished', source: '//pubsub.googleapis.com/projects/p/topics/t', id: 'm-1', datacontenttype: 'application/json', data: { subscription: 'projects/p/subscriptions/s', message } };
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(ce) });
      await res.arrayBuffer();
      expect(res.status).toBe(204);
      if (expected === undefined) expect(seen[0]!.ctx.trigger).not.toHaveProperty('groupId');
      else expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', groupId: expected });
    }
  });
});
