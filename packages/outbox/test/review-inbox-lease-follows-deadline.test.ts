/**
 * Review: the inbox held an event's key for `leaseMs` (default 5 minutes) whatever the
 * invocation's timeout. A consumer on a 15-minute Lambda whose handling ran past 5 minutes lost
 * its key: a duplicate delivery of the event (SQS delivers at least once; the relay sends at
 * least once) claimed it and ran the effect alongside the first. With `leaseMs` unset the key is
 * now held until the invocation's deadline, as the idempotency plugin does (the same code,
 * `leaseUntil` of `@steadyfn/lease/internal`); an explicit shorter `leaseMs` is kept and
 * warned once (`INBOX_LEASE_SHORT`). On Redis: the claimed record's lease is read back while
 * the function runs.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { memoryStore, redisStore, scopeOf, storeKey, type StoredRecord } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { sqsRecord, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const FIFTEEN_MINUTES = 15 * 60_000;

describe('review: the inbox lease follows the invocation deadline (redis)', () => {
  const redis = useRedis('redis');

  async function leaseSeenByFunction(leaseMs: number | undefined, extra: { allowShortLease?: boolean } = {}): Promise<{ lease: number; deadline: number; warned: string[] }> {
    const store = redisStore({ client: redis.client, prefix: `${redis.prefix}inbox:` });
    const consumer = `shipping-${randomUUID()}`;
    const warned: string[] = [];
    let seen: { lease: number; deadline: number } | undefined;
    const ship = handler(
      {
        name: 'ship',
        logLevel: 'warn',
        logSink: (line) => {
          const code = (JSON.parse(line) as { code?: string }).code;
          if (code?.startsWith('INBOX_LEASE')) warned.push(code);
        },
        use: [inbox({ store, consumer, ...(leaseMs === undefined ? {} : { leaseMs }), ...extra })],
      },
      async (_input, ctx) => {
        const record = (await store.get(storeKey(scopeOf(`inbox:${consumer}`), { kind: 'custom', value: `event:${ctx.inbox.event.id}` }))) as StoredRecord & { leaseUntil: number };
        expect(record.status).toBe('in_progress');
        seen = { lease: record.leaseUntil, deadline: ctx.deadline };
      },
    );
    const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const context = { awsRequestId: randomUUID(), functionName: 'ship', getRemainingTimeInMillis: () => FIFTEEN_MINUTES };
    expect(await ship.aws({ Records: [sqsRecord(serializeEvent(event, 1))] }, context)).toEqual({ batchItemFailures: [] });
    return { ...seen!, warned };
  }

  it('leaseMs unset: the key is held until the deadline of a 15-minute invocation, not 5 minutes', async () => {
    const before = Date.now();
    const { lease, deadline, warned } = await leaseSeenByFunction(undefined);
    // The deadline as the lease store keeps it (a Redis store puts the lease in the server's clock: a few ms apart).
    expect(lease).toBeGreaterThan(before + 10 * 60_000);
    expect(Math.abs(lease - deadline)).toBeLessThan(5_000);
    expect(warned).toEqual([]);
  });

  it('an explicit leaseMs shorter than the remaining time is kept and warned INBOX_LEASE_SHORT', async () => {
    const before = Date.now();
    const { lease, deadline, warned } = await leaseSeenByFunction(60_000);
    expect(lease).toBeGreaterThanOrEqual(before + 60_000 - 5_000);
    expect(lease).toBeLessThan(before + 10 * 60_000);
    expect(deadline).toBeGreaterThan(before + 10 * 60_000);
    expect(warned).toEqual(['INBOX_LEASE_SHORT']);
  });

  it('allowShortLease: true keeps the short lease and says nothing: a short lease chosen on purpose', async () => {
    const before = Date.now();
    const { lease, warned } = await leaseSeenByFunction(60_000, { allowShortLease: true });
    // The same lease as without the option: only the warning goes.
    expect(lease).toBeGreaterThanOrEqual(before + 60_000 - 5_000);
    expect(lease).toBeLessThan(before + 10 * 60_000);
    expect(warned).toEqual([]);
  });
});

describe('review: allowShortLease of the inbox is checked (pure)', () => {
  const store = memoryStore();
  it('refuses anything but a boolean, and true without leaseMs (there is no short lease to allow)', () => {
    expectOptionRefused(() => inbox({ store, consumer: 'c', leaseMs: 1000, allowShortLease: 'yes' } as never), 'inbox', 'allowShortLease', ['true, false', '"yes"']);
    expectOptionRefused(() => inbox({ store, consumer: 'c', allowShortLease: true }), 'inbox', 'allowShortLease', ['while leaseMs is unset', 'INBOX_LEASE_NO_DEADLINE']);
    expect(() => inbox({ store, consumer: 'c', allowShortLease: false })).not.toThrow();
    expect(() => inbox({ store, consumer: 'c', leaseMs: 1000, allowShortLease: true })).not.toThrow();
  });
});
