/**
 * Why the outbox exists: the same 100 payments, each killed at the same points with the
 * same seeded dice, once as a dual write (write the state, then send the message) and once
 * through the outbox. The dual write loses the events of every kill between its two writes
 * (state changed, no message, nothing left to retry from); the outbox loses none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsSender } from '../../src/sqs.js';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from '../support.js';
import { prepareEvent, redisWrite, serializeEvent } from '../../src/index.js';
import { redisRelayStore } from '../../src/stores/redis.js';
import { MetricsRecorder } from '../../src/relay/metrics.js';
import { relayAggregates } from '../../src/relay/relay.js';
import { sweep } from '../../src/relay/sweeper.js';
import { events, seeded } from './harness.js';

const N = 100;
class Killed extends Error {}

describe('dual write versus outbox under the same kill points', () => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  const queues: Array<{ url: string; remove(): Promise<void> }> = [];
  beforeAll(async () => {
    redis = await openRedis('redis');
    sqs = await sqsClient();
  });
  afterAll(async () => {
    for (const q of queues) await q.remove();
    await redis?.close();
  });

  it('the dual write loses events; the outbox loses none', { timeout: 300_000 }, async () => {
    const dual = await createQueue(sqs);
    const boxed = await createQueue(sqs);
    queues.push(dual, boxed);
    const run = { leaseMs: 30_000, maxEventsPerAggregate: 10, poison: { maxAttempts: 100, maxUnfinishedAttempts: 100 }, reserveMs: 0, remainingMs: () => 60_000 };
    const store = redisRelayStore({ client: redis.client, prefix: redis.prefix }).withLease!(redis.lease);
    const deps = { store, lease: redis.lease, sender: sqsSender({ client: sqs, queueUrl: boxed.url }), metrics: new MetricsRecorder() };
    const dice = seeded(7);
    let kills = 0;
    for (let i = 0; i < N; i++) {
      const killHere = dice() < 0.2;
      if (killHere) kills++;
      const id = `p-${i}`;
      const event = prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: 1 } }, {});
      // Dual write: state first, then the message; the kill lands between them.
      try {
        await redis.client.hset(`${redis.prefix}dual:{${id}}`, 'status', 'paid');
        if (killHere) throw new Killed();
        await sqs.send(new SendMessageCommand({ QueueUrl: dual.url, MessageBody: serializeEvent(event, 1) }));
      } catch (error) {
        if (!(error instanceof Killed)) throw error;
      }
      // Outbox: one atomic write, then the flush; the kill lands between them.
      try {
        const written = await redisWrite(redis.client, redis.prefix, { checks: [], commands: [['HSET', `${redis.prefix}boxed:{${id}}`, 'status', 'paid']], events: [event] });
        if (killHere) throw new Killed();
        await relayAggregates(deps, [{ where: written.partition, aggregate: `tick/${id}`, since: Date.now() }], run);
      } catch (error) {
        if (!(error instanceof Killed)) throw error;
      }
    }
    // Recovery: the outbox's sweeper (a schedule); the dual write has nothing to recover from.
    await sweep(deps, run, { graceMs: 0, maxAggregates: 1000, chunk: 10, retainSentMs: 0, cleanupLimit: 1 });
    const dualIds = new Set((await drainQueue(sqs, dual.url)).map((m) => JSON.parse(m.Body!).aggregateId));
    const boxedIds = new Set((await drainQueue(sqs, boxed.url)).map((m) => JSON.parse(m.Body!).aggregateId));
    const paidDual = (await redis.client.keys(`${redis.prefix}dual:*`)).length;
    const paidBoxed = (await redis.client.keys(`${redis.prefix}boxed:*`)).length;
    console.info(`dual write: ${paidDual} paid, ${dualIds.size} events sent, ${paidDual - dualIds.size} lost; outbox: ${paidBoxed} paid, ${boxedIds.size} sent, ${paidBoxed - boxedIds.size} lost (${kills} kills)`);
    expect(kills).toBeGreaterThan(0);
    expect(paidDual - dualIds.size).toBe(kills);
    expect(paidBoxed).toBe(N);
    expect(boxedIds.size).toBe(N);
  });
});
