/**
 * Review finding (hx, message loss): under `terminalErrors: 'ack'` the inbox's store refusal
 * `LEASE_RECORD_UNREADABLE` (records under the inbox's prefix that another program or an older
 * deployment wrote) was acknowledged like a poison message — the SQS message deleted, the
 * function never run, the event lost for good. It is a fault of the deployment (a
 * `ConfigurationError` now, in @steadyfn/lease): the message is reported failed and stays for
 * the dead-letter queue until the prefix is fixed. Real Redis.
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
const eventBody = (aggregateId: string, seq: number) => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId, payload: { amountCents: seq } }, {}), seq);

describe("inbox under terminalErrors: 'ack'", () => {
  it('records under the prefix an older deployment wrote: the next event is reported failed, never acknowledged unrun', async () => {
    const prefix = `${redis.prefix}inbox-ack-foreign:`;
    const aggregate = `o-${randomUUID()}`;
    let runs = 0;
    const ship = handler(
      { name: 'ship', terminalErrors: 'ack', logSink: () => undefined, use: [inbox({ store: redisStore({ client: redis.client, prefix }), consumer: 'shipping' })] },
      async () => void runs++,
    );
    expect(await ship.aws({ Records: [sqsRecord(eventBody(aggregate, 1))] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    const keys = await (redis.client as Redis).keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) await redis.client.set(key, 'written by an older deployment');
    const messageId = randomUUID();
    expect(await ship.aws({ Records: [sqsRecord(eventBody(aggregate, 2), { messageId })] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(runs).toBe(1);
  });
});
