/**
 * The fault harness's consumer against moto's delivery order. moto hands out the oldest visible
 * messages first; a message the consumer fails (an event whose predecessor it has not applied
 * yet) and made visible again at once came back first in every receive. With ten such events at
 * the head of the queue, every receive returned those ten and nothing behind them — their
 * predecessors included — until their receive count reached `maxGapRetries` (1000): the
 * MassTransit#5641 replay's consumer ran out of its 60 s with events still visible in the queue.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { prepareEvent, serializeEvent } from '../../src/envelope.js';
import { createQueue, openRedis, sqsClient, type RedisBackend } from '../support.js';
import { allApplied, appliedSeqs } from './backends.js';
import { consume, events } from './harness.js';

let redis: RedisBackend;
let sqs: SQSClient;
let queue: { url: string; remove(): Promise<void> };

beforeAll(async () => {
  [redis, sqs] = await Promise.all([openRedis('redis'), sqsClient('moto')]);
  queue = await createQueue(sqs);
});
afterAll(async () => {
  await queue?.remove();
  await redis?.close();
});

it('ten events waiting for their predecessors at the head of a moto queue do not starve the predecessors behind them', async () => {
  const aggregates = 10;
  const envelopes = Array.from({ length: aggregates }, (_, a) => {
    const id = `agg-${a}`;
    return [1, 2].map((seq) => serializeEvent(prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: seq } }, {}), seq));
  });
  // Every seq 2 first (the head of the queue), then every seq 1 behind them.
  for (const seq of [2, 1]) {
    const entries = envelopes.map((bodies, a) => ({ Id: `a${a}`, MessageBody: bodies[seq - 1]! }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
    expect(sent.Successful).toHaveLength(aggregates);
  }
  const consumed = await consume(sqs, queue.url, redis.client, redis.prefix, () => allApplied(redis, aggregates, 2), { fifo: false, limitMs: 120_000, stallMs: 15_000 });
  expect(consumed.endedBy).toBe('done');
  for (let a = 0; a < aggregates; a++) expect(await appliedSeqs(redis, a)).toEqual([1, 2]);
}, 180_000);
