/**
 * How a sweep cuts its aggregates into chunks: the pure rules (chunking.ts), and a sweep over
 * the real Redis store and lease with a recording sender — large events spread over the idle
 * workers after the first round, small ones keep full calls, each aggregate in order, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openRedis, type RedisBackend } from '../../test/support.js';
import { redisWrite } from '../capture/redis.js';
import { prepareEvent } from '../envelope.js';
import { redisRelayStore } from '../stores/redis.js';
import { BATCH_BYTES, chunkFloor, FULL_BATCH, keepCount, takeCount } from './chunking.js';
import { MetricsRecorder } from './metrics.js';
import { DEFAULT_POISON } from './poison.js';
import { sweep } from './sweeper.js';
import type { OutboundMessage, SendReport, Sender } from './types.js';

const KiB = 1024;

describe('chunk floor', () => {
  it('is a full batch before anything was read, and for small events', () => {
    expect(chunkFloor(undefined, 4)).toBe(FULL_BATCH);
    expect(chunkFloor({ events: 0, bytes: 0 }, 4)).toBe(FULL_BATCH);
    expect(chunkFloor({ events: 100, bytes: 100 * 256 }, 4)).toBe(10);
    expect(chunkFloor({ events: 100, bytes: 100 * 8 * KiB }, 4)).toBe(10);
  });

  it('falls to the aggregates whose heads weigh a parallel-th of a batch when events are large', () => {
    expect(chunkFloor({ events: 10, bytes: 10 * 200 * KiB }, 4)).toBe(2);
    // The bench's mix (heads of about 80 KiB): 4 aggregates a chunk, so 16 give every worker some.
    expect(chunkFloor({ events: 16, bytes: 16 * 80 * KiB }, 4)).toBe(4);
    expect(chunkFloor({ events: 1, bytes: BATCH_BYTES }, 4)).toBe(1);
    // One worker: a chunk's heads should fill a batch by bytes.
    expect(chunkFloor({ events: 10, bytes: 10 * 200 * KiB }, 1)).toBe(6);
  });
});

describe('cutting', () => {
  it('cuts the first chunks as before while the floor is a full batch', () => {
    // 16 aggregates, 4 workers: 10, then the 6 left; the other two workers wait.
    expect(takeCount(16, 4, 25, FULL_BATCH)).toBe(10);
    expect(takeCount(6, 3, 25, FULL_BATCH)).toBe(6);
    expect(takeCount(40, 4, 25, FULL_BATCH)).toBe(10);
    expect(takeCount(200, 4, 25, FULL_BATCH)).toBe(25);
    expect(takeCount(3, 1, 25, FULL_BATCH)).toBe(3);
  });

  it('shares evenly above a lower floor, within the chunk option', () => {
    expect(takeCount(16, 4, 25, 4)).toBe(4);
    expect(takeCount(7, 3, 25, 2)).toBe(3);
    expect(takeCount(7, 1, 5, 2)).toBe(5);
  });

  it('keeps everything while no worker waits, or above the floor', () => {
    expect(keepCount(10, 0, 2)).toBe(10);
    expect(keepCount(10, 3, FULL_BATCH)).toBe(10);
    expect(keepCount(10, 3, 2)).toBe(3);
    expect(keepCount(10, 1, 4)).toBe(5);
    expect(keepCount(2, 3, 1)).toBe(1);
  });
});

/** Accepts everything, and records the aggregates of each send call. */
function recordingSender(): Sender & { calls: string[][]; accepted: OutboundMessage[] } {
  const calls: string[][] = [];
  const accepted: OutboundMessage[] = [];
  return {
    fifo: false,
    calls,
    accepted,
    async send(messages): Promise<SendReport> {
      calls.push([...new Set(messages.map((m) => m.groupKey!))]);
      accepted.push(...messages);
      return { sent: messages.map((m) => ({ id: m.id })), failed: [], batches: 1, fill: { entries: 0, bytes: 0 }, retries: 0 };
    },
  };
}

describe('a sweep over the Redis store', () => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis('redis');
  });
  afterAll(async () => {
    await backend.close();
  });
  const events = { Blob: { aggregateType: 'blob', schema: z.object({ data: z.string() }) } };

  const sweepOf = async (aggregates: number, perAggregate: number, bytes: number) => {
    const prefix = `${backend.prefix}${aggregates}x${bytes}:`;
    for (let a = 0; a < aggregates; a++) {
      const drafts = Array.from({ length: perAggregate }, () => prepareEvent(events, { type: 'Blob', aggregateId: `b${a}`, payload: { data: 'x'.repeat(bytes) } }, {}));
      await redisWrite(backend.client, prefix, { checks: [], commands: [], events: drafts });
    }
    const sender = recordingSender();
    const store = redisRelayStore({ client: backend.client, prefix }).withLease!(backend.lease);
    const run = { leaseMs: 10_000, maxEventsPerAggregate: 50, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 60_000 };
    const result = await sweep({ store, lease: backend.lease, sender, metrics: new MetricsRecorder() }, run, { graceMs: 0, maxAggregates: 1000, chunk: 25, parallel: 4, retainSentMs: 0, cleanupLimit: 0, pruneLimit: 0 });
    // Every event once, each aggregate's in seq order.
    for (let a = 0; a < aggregates; a++) {
      const seqs = sender.accepted.filter((m) => m.groupKey === `blob/b${a}`).map((m) => Number(m.attributes!['steadyfn.seq']));
      expect(seqs).toEqual(Array.from({ length: perAggregate }, (_, i) => i + 1));
    }
    return { found: result.found, calls: sender.calls };
  };

  it('hands large events to the idle workers after the first round', async () => {
    // 10 aggregates of 200 KiB: one chunk of 10 (nothing read yet), whose first round reads one
    // event of each (2 MiB); then the floor is 2 and three workers wait: it keeps 3, the others take 7.
    const { found, calls } = await sweepOf(10, 3, 200 * KiB);
    expect(found).toBe(10);
    expect(calls[0]).toHaveLength(10);
    expect(Math.max(...calls.slice(1).map((c) => c.length))).toBeLessThanOrEqual(3);
  });

  it('keeps small events in full chunks', async () => {
    // 20 aggregates of 256 B: two chunks of 10, every call of 10 aggregates, as before.
    const { calls } = await sweepOf(20, 3, 256);
    expect(calls.every((c) => c.length === 10)).toBe(true);
    expect(calls).toHaveLength(2);
  });
});
