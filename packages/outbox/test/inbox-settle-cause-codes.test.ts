/**
 * The inbox's completion and release lines say which failure they met: `cause` (class) and
 * `causeCode` (`errorFacts` of @steadyfn/handler/internal, as idempotency's lines), never the
 * message or a payload; before, only `cause: error.name`. A value that `@steadyfn/lease` did
 * not write, put under the event's key while the function ran (another program sharing the
 * prefix), is said as such — the store refused it, `LEASE_RECORD_UNREADABLE` — and not as
 * "taken over" (nobody holds it). A completion given up (`INBOX_COMPLETION_ABANDONED`) names
 * the last failure. Real Redis for the foreign value; the in-memory store with failing settles
 * for the rest (pure logic).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Redis } from 'ioredis';
import { handler } from '@steadyfn/handler';
import { memoryStore, redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { eventually } from '../../../test/support/wait.js';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { lambdaContext, sqsRecord, useRedis } from './support.js';

type Line = Record<string, unknown>;
const SECRET = 'redis://app:s3cret@cache:6379';
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const eventBody = () => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 4242 } }, {}), 1);
const parsed = (lines: string[]): Line[] => lines.map((l) => JSON.parse(l) as Line);

/** The memory store, except that every settle (completion or release) throws `thrown()`. */
function settlesThrow(thrown: () => unknown): IdempotencyStore & { settles: number } {
  const counted = { ...memoryStore(), settles: 0, completeMany: () => (counted.settles++, Promise.reject(thrown())) };
  return counted;
}

describe('inbox settle lines carry causeCode', () => {
  const redis = useRedis('redis');

  it('a foreign value under the event key: "the store refused it" with LEASE_RECORD_UNREADABLE, not "taken over", never the value', async () => {
    const prefix = `${redis.prefix}inbox-foreign-settle-${randomUUID()}:`;
    const lines: string[] = [];
    const ship = handler({ name: 'ship', logLevel: 'info', logSink: (l) => void lines.push(l), use: [inbox({ store: redisStore({ client: redis.client, prefix }), consumer: 'shipping' })] }, async () => {
      // The event record, its seq marker and the aggregate's seen record, held by this invocation, overwritten by another program.
      const keys = await (redis.client as Redis).keys(`${prefix}*`);
      expect(keys).toHaveLength(3);
      for (const key of keys) await redis.client.set(key, 'hello-foreign-value');
    });
    expect(await ship.aws({ Records: [sqsRecord(eventBody())] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    const refused = parsed(lines).filter((l) => String(l.msg).startsWith('inbox record could not be completed'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 'error', msg: 'inbox record could not be completed; the store refused it, not retried', code: 'INBOX_STORE_UNAVAILABLE', consumer: 'shipping', cause: 'LeaseRecordUnreadableError', causeCode: 'LEASE_RECORD_UNREADABLE' });
    expect(lines.join('\n')).not.toMatch(/taken over|hello-foreign-value|amountCents|4242/);
  });

  it('a completion whose store call fails: its line and the abandon line carry cause and causeCode, not the message', async () => {
    let calls = 0;
    const store = settlesThrow(() => (++calls === 1 ? Object.assign(new Error(SECRET), { code: 'LEASE_STORE_UNAVAILABLE' }) : Object.assign(new RangeError(SECRET), { code: 'ERR_STORE_REPLY' })));
    const lines: string[] = [];
    const ship = handler({ name: 'ship', logLevel: 'info', logSink: (l) => void lines.push(l), use: [inbox({ store, consumer: `shipping-${randomUUID()}`, leaseMs: 400, allowShortLease: true })] }, () => undefined);
    expect(await ship.aws({ Records: [sqsRecord(eventBody())] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    await eventually(() => lines.some((l) => l.includes('INBOX_COMPLETION_ABANDONED')));
    const all = parsed(lines);
    expect(all.find((l) => l.msg === 'inbox record could not be completed; retried until its lease ends')).toMatchObject({ level: 'error', code: 'INBOX_STORE_UNAVAILABLE', cause: 'Error', causeCode: 'LEASE_STORE_UNAVAILABLE' });
    expect(all.find((l) => l.code === 'INBOX_COMPLETION_ABANDONED')).toMatchObject({ level: 'error', cause: 'RangeError', causeCode: 'ERR_STORE_REPLY' });
    expect(lines.join('\n')).not.toMatch(/s3cret|amountCents|4242/);
  });

  it('a release whose store call fails (the function threw): the warning carries cause and causeCode', async () => {
    const store = settlesThrow(() => Object.assign(new Error(SECRET), { code: 'LEASE_RECORD_UNREADABLE', retryable: false }));
    const lines: string[] = [];
    const ship = handler({ name: 'ship', logLevel: 'info', logSink: (l) => void lines.push(l), use: [inbox({ store, consumer: `shipping-${randomUUID()}` })] }, () => {
      throw new Error('the function failed');
    });
    const answer = (await ship.aws({ Records: [sqsRecord(eventBody())] }, lambdaContext())) as { batchItemFailures: unknown[] };
    expect(answer.batchItemFailures).toHaveLength(1);
    const released = parsed(lines).find((l) => String(l.msg).startsWith('inbox record could not be released'));
    expect(released).toMatchObject({ level: 'warn', msg: 'inbox record could not be released; the store refused it, not retried', code: 'INBOX_STORE_UNAVAILABLE', cause: 'Error', causeCode: 'LEASE_RECORD_UNREADABLE' });
    expect(lines.join('\n')).not.toMatch(/s3cret|amountCents|4242/);
  });

  it("a failure without a code: INBOX_STORE_UNAVAILABLE with causeCode 'UNKNOWN' (the idempotency plugin's fallback), on the line and the abandon line", async () => {
    // A custom store's plain Error (no `code`): the field is there all the same, so a log query on it never misses a line.
    const store = settlesThrow(() => new TypeError(SECRET));
    const lines: string[] = [];
    const ship = handler({ name: 'ship', logLevel: 'info', logSink: (l) => void lines.push(l), use: [inbox({ store, consumer: `shipping-${randomUUID()}`, leaseMs: 400, allowShortLease: true })] }, () => undefined);
    expect(await ship.aws({ Records: [sqsRecord(eventBody())] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    await eventually(() => lines.some((l) => l.includes('INBOX_COMPLETION_ABANDONED')));
    const all = parsed(lines);
    expect(all.find((l) => l.msg === 'inbox record could not be completed; retried until its lease ends')).toMatchObject({ level: 'error', code: 'INBOX_STORE_UNAVAILABLE', cause: 'TypeError', causeCode: 'UNKNOWN' });
    expect(all.find((l) => l.code === 'INBOX_COMPLETION_ABANDONED')).toMatchObject({ level: 'error', cause: 'TypeError', causeCode: 'UNKNOWN' });
    expect(lines.join('\n')).not.toMatch(/s3cret|amountCents|4242/);
  });

  it('a completion the store refuses (the records taken over): the warning carries INBOX_LEASE_LOST', async () => {
    const base = memoryStore();
    const store: IdempotencyStore = { ...base, completeMany: (requests) => Promise.resolve(requests.map(() => false)) };
    const lines: string[] = [];
    const ship = handler({ name: 'ship', logLevel: 'info', logSink: (l) => void lines.push(l), use: [inbox({ store, consumer: `shipping-${randomUUID()}` })] }, () => undefined);
    expect(await ship.aws({ Records: [sqsRecord(eventBody())] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(parsed(lines).filter((l) => l.msg === 'inbox record was taken over before completion')).toEqual([expect.objectContaining({ level: 'warn', code: 'INBOX_LEASE_LOST' })]);
  });
});
