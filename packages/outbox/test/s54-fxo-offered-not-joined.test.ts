/**
 * s54-fxo (review rvx): `use: [idempotency, x, outbox]`, the function returns, then `x.after`
 * (run after the outbox's write) fails once. The effects are written, so the record must be
 * completed with the function's result and the retry replays it without running the function.
 * But the outbox asked for the idempotency completion (`pendingCompletion`, which marks it
 * offered to a write) before finding it had nothing to write, and when its write committed
 * without carrying the completion (an idempotency store the write cannot settle: a MongoDB
 * record beside a Redis outbox) — an offered completion made the failure release the record,
 * and the retry ran the function a second time. Real Redis and FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { idempotency, mongoStore, redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { outbox, redisOutbox } from '../src/index.js';
import { useMongo, useRedis } from './support.js';
import { audit, codeOf, shipped } from './after-failures.js';

describe('use: [idempotency, x, outbox], x.after fails once after the outbox wrote', () => {
  const backend = useRedis('redis');
  const mongo = useMongo();
  const store = () => redisOutbox({ client: backend.client, prefix: backend.prefix });
  const countOf = (id: string) => backend.client.hget(`${backend.prefix}shipments:{${id}}`, 'count');

  const run = async (idem: IdempotencyStore, stage: boolean) => {
    const x = audit();
    let runs = 0;
    const id = `o-${randomUUID()}`;
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: idem, ttlMs: 3_600_000, localCache: false }), x, outbox({ events: shipped, store: store() })] },
      async (_input, ctx) => {
        runs++;
        if (stage) {
          ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${id}}`, 'count', 1);
          ctx.outbox.add({ type: 'OrderShipped', aggregateId: id, payload: {} });
        }
        return { paid: true };
      },
    );
    const deliveryId = randomUUID();
    const answers = [await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf)];
    x.down = false;
    answers.push(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf));
    return { answers, runs, count: await countOf(id) };
  };

  it('nothing staged: the record is completed with the result, the retry replays it (the function runs once)', async () => {
    const { answers, runs } = await run(redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` }), false);
    expect(answers).toEqual(['AUDIT_FAILED', { paid: true }]);
    expect(runs).toBe(1);
  });

  it('a write that committed without the completion (MongoDB idempotency records, Redis outbox): completed, the function runs once', async () => {
    const idem = mongoStore({ collection: mongo.db.collection(`idem_${randomUUID().slice(0, 8)}`) });
    const { answers, runs, count } = await run(idem, true);
    expect(answers).toEqual(['AUDIT_FAILED', { paid: true }]);
    expect(runs).toBe(1);
    expect(count).toBe('1');
  });

  it('positive: the write carried the completion (Redis records on the same server): completed in the write, the function runs once', async () => {
    const { answers, runs, count } = await run(redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` }), true);
    expect(answers).toEqual(['AUDIT_FAILED', { paid: true }]);
    expect(runs).toBe(1);
    expect(count).toBe('1');
  });
});
