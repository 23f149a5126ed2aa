/**
 * Review finding (oz, inbox store errors): the inbox turned every failure of its store's calls
 * into `OUTBOX_STORE_UNAVAILABLE` ("the store could not be reached", 503, retryable) — also a
 * terminal answer of a store that WAS reached: a record under the inbox's prefix that
 * `@steadyfn/lease` did not write (another program sharing the prefix) is
 * `LEASE_RECORD_UNREADABLE`, which no redelivery changes. Logged as an outage, it sent the on-call
 * looking for a server that was up, and was retried until the DLQ as if the store might come
 * back. Right: an outage stays `OUTBOX_STORE_UNAVAILABLE` (retryable; its cause in the log, as
 * the idempotency plugin's `IDEMPOTENCY_STORE_UNAVAILABLE` keeps it); a terminal store refusal
 * passes with its own code, terminal. Real Redis; the outage on a port nothing listens on.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Redis } from 'ioredis';
import { handler } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { inbox } from '@steadyfn/outbox';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { lambdaContext, sqsRecord, useRedis } from './support.js';

const redis = useRedis('redis');
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const eventBody = () => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {}), 1);
const failures = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'invocation failed');

describe('inbox: what a store failure is reported as', () => {
  it('a record under the prefix that the lease store did not write: its own terminal code, not an outage', async () => {
    const prefix = `${redis.prefix}inbox-foreign:`;
    const lines: string[] = [];
    let runs = 0;
    const ship = handler({ name: 'ship', logSink: (l) => void lines.push(l), use: [inbox({ store: redisStore({ client: redis.client, prefix }), consumer: 'shipping' })] }, async () => void runs++);
    const body = eventBody();
    expect(await ship.aws({ Records: [sqsRecord(body)] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    const keys = await (redis.client as Redis).keys(`${prefix}*`);
    expect(keys).toHaveLength(3); // the event record, its seq marker, the aggregate's seen record
    // Another program writes under the same prefix.
    for (const key of keys) await redis.client.set(key, 'not a lease record');
    const messageId = randomUUID();
    expect(await ship.aws({ Records: [sqsRecord(body, { messageId })] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(runs).toBe(1);
    expect(failures(lines)).toEqual([expect.objectContaining({ code: 'LEASE_RECORD_UNREADABLE', retryable: false })]);
    expect(lines.join('\n')).not.toContain('not a lease record');
  });

  it('a store that cannot be reached: OUTBOX_STORE_UNAVAILABLE, retryable, the lease store\'s error as its cause', async () => {
    const down = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    const lines: string[] = [];
    const ship = handler({ name: 'ship', logSink: (l) => void lines.push(l), use: [inbox({ store: redisStore({ client: down }), consumer: 'shipping' })] }, async () => undefined);
    const messageId = randomUUID();
    try {
      expect(await ship.aws({ Records: [sqsRecord(eventBody(), { messageId })] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    } finally {
      down.disconnect();
    }
    expect(failures(lines)).toEqual([expect.objectContaining({ code: 'OUTBOX_STORE_UNAVAILABLE', retryable: true, cause: 'LeaseStoreUnavailableError', causeCode: 'LEASE_STORE_UNAVAILABLE' })]);
  });
});
