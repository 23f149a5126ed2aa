/**
 * A store's typed terminal refusal made by another copy of `@steadyfn/handler` (two installed
 * versions, a bundle without kept class names: its classes carry no brand this copy knows, so
 * `instanceof SteadyError` is false) passes through the inbox with its own code, as the
 * idempotency plugin passes it — both decide by shape (`passThroughStoreError`). Before, the inbox
 * decided by `instanceof` and answered the retryable `OUTBOX_STORE_UNAVAILABLE`, so a queue
 * redelivered the message until its DLQ for a refusal no retry changes. The records are on the
 * real Redis server; the store's claim or read is made to refuse as such a copy's store would.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { lambdaContext, sqsEvent, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const envelope = (aggregateId: string, seq: number) => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId, payload: { amountCents: 1 } }, { correlationId: 'c' }), seq);

/** `LeaseStoreUnsupportedError` as another, unbranded copy of the packages makes it. */
class LeaseStoreUnsupportedError extends Error {
  override name = 'LeaseStoreUnsupportedError';
  code = 'LEASE_STORE_UNSUPPORTED';
  status = 500;
  retryable = false;
  expose = false;
}

type Line = Record<string, unknown>;

describe('review: the inbox passes a typed terminal refusal of another copy with its own code (Redis)', () => {
  const backend = useRedis('redis');

  it.each(['claim', 'get'] as const)('refused by %s: the failure is LEASE_STORE_UNSUPPORTED (terminal), not OUTBOX_STORE_UNAVAILABLE; the function does not run', async (refuses) => {
    const base = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    const store = Object.create(base) as IdempotencyStore;
    (store as unknown as Record<string, () => Promise<never>>)[refuses] = () => Promise.reject(new LeaseStoreUnsupportedError('lease store refused: unique-insert'));
    const lines: string[] = [];
    let runs = 0;
    const main = handler({ use: [inbox({ store, consumer: `copy-${randomUUID()}` })], terminalErrors: 'ack', logSink: (l) => lines.push(l) }, () => {
      runs++;
    });
    // seq 2 reads its predecessor's marker (`get`) after claiming its own record.
    const res = (await main.aws(sqsEvent([envelope(`a-${randomUUID()}`, refuses === 'get' ? 2 : 1)]), lambdaContext())) as { batchItemFailures: unknown[] };
    // A 500: the store's fault, not the message's: reported failed even under 'ack'.
    expect(res.batchItemFailures).toHaveLength(1);
    expect(runs).toBe(0);
    const failed = lines.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'invocation failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: 'LEASE_STORE_UNSUPPORTED', retryable: false });
  });
});
