/**
 * The inbox after an inner plugin's `onError` recovered (onion order, 59f4846c), on real Redis,
 * fed SQS records as Lambda hands them out (one message per record, `batchItemFailures`).
 *
 * - `use: [inbox, fallback]`, the function throws, `fallback.onError` answers: the recovered
 *   answer flows out through the inbox's `after`, which must release the claims (not complete
 *   them, not leave them held): the redelivery of the event runs the effect, once.
 * - The `finally` backstop (`INBOX_RELEASED_LATE`): under middy, `toMiddy(inbox)`,
 *   `toMiddy(strict)`, `toMiddy(fallback)`; the fallback recovers, `strict.after` throws on the
 *   recovered answer, so `recoverOutward` ends the request there (every `finally`, then the
 *   error to middy) — the inbox got neither `after` nor `onError`, and only its `finally`
 *   releases the claims.
 */
import { randomUUID } from 'node:crypto';
// @middy/core is a dev dependency of @steadyfn/handler, not of this package: taken from there.
import middy from '../../handler/node_modules/@middy/core/index.js';
import { handler, httpResult, recoveredFrom, type Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { redisStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { lambdaContext, sqsRecord, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const backend = useRedis('redis');

/** One serialized OrderPaid event of a fresh aggregate (seq 1: no gap check). */
const freshEvent = () => {
  const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
  return { id: event.id, body: serializeEvent(event, 1) };
};

const fallback: Plugin = { name: 'fallback', onError: () => ({ answer: httpResult({ status: 202, body: { later: true } }) }) };

describe('use: [inbox, fallback] where fallback.onError recovers', () => {
  it('releases the claims: the redelivery runs the effect once (not held, not a duplicate)', async () => {
    const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    const effects: string[] = [];
    let runs = 0;
    const ship = handler(
      { name: 'ship', logSink: () => undefined, use: [inbox({ store, consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), fallback] },
      async (_input, ctx) => {
        if (++runs === 1) throw new Error('warehouse down');
        effects.push(ctx.inbox.event.id);
      },
    );
    const { id, body } = freshEvent();
    const deliver = async (attempt: number) => (await ship.aws({ Records: [sqsRecord(body, { attempt })] }, lambdaContext())) as { batchItemFailures: unknown[] };

    // Recovered: the message counts as handled by the fallback, no batch item failure.
    expect((await deliver(1)).batchItemFailures).toEqual([]);
    expect(effects).toEqual([]);
    // The redelivery (SQS delivers at least once): runs the function. Held claims would fail it as
    // INBOX_IN_PROGRESS until the lease ends; completed ones would answer a duplicate, no effect ever.
    expect((await deliver(2)).batchItemFailures).toEqual([]);
    expect(effects).toEqual([id]);
    // And now it is handled: a third delivery is a duplicate.
    expect((await deliver(3)).batchItemFailures).toEqual([]);
    expect(effects).toEqual([id]);
    expect(runs).toBe(2);
  });
});

describe('under middy: an outer after that throws on the recovered answer', () => {
  it("fails the request again: the inbox's onError releases the claims (as under handler()), so its finally backstop has nothing left", async () => {
    const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    const lines: Array<Record<string, unknown>> = [];
    const effects: string[] = [];
    let runs = 0;
    // Refuses to pass a fallback answer on (a plugin whose after validates what it sends).
    const strict: Plugin = {
      name: 'strict',
      after: (ctx) => {
        if (recoveredFrom(ctx)) throw Object.assign(new Error('no fallback answers here'), { code: 'STRICT_REFUSED' });
      },
    };
    const main = middy(
      steadyHandler(async (_event, _context, ctx) => {
        if (++runs === 1) throw new Error('warehouse down');
        effects.push((ctx as unknown as { inbox: { event: { id: string } } }).inbox.event.id);
        return { ok: true };
      }),
    )
      .use(toMiddy(inbox({ store, consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), { name: 'ship', logLevel: 'warn', logSink: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) }))
      .use(toMiddy(strict))
      .use(toMiddy(fallback));
    const { id, body } = freshEvent();

    await expect(main({ Records: [sqsRecord(body)] }, lambdaContext() as never)).rejects.toThrow('no fallback answers here');
    // Released: the redelivery runs the effect (held claims: rejected as INBOX_IN_PROGRESS).
    await expect(main({ Records: [sqsRecord(body, { attempt: 2 })] }, lambdaContext() as never)).resolves.toEqual({ ok: true });
    expect(effects).toEqual([id]);
    // toMiddy() runs onError for the plugin whose after threw and those before it (middy/recover.ts),
    // so the inbox released in onError: nothing was left for the finally backstop to release late.
    expect(lines.filter((l) => l.code === 'INBOX_RELEASED_LATE')).toEqual([]);
  });
});
