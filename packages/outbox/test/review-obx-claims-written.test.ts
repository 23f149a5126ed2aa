/**
 * Redis Cluster: a write claims each new aggregate's home (another slot) before its script, the
 * aggregates of one write in parallel. Two refusals said "nothing was written" when a claim had
 * been written before them:
 * - `OUTBOX_AGGREGATE_PARTITION` for one aggregate of a write whose OTHER aggregate's claim
 *   landed first — that claim stays (until its partition numbers the aggregate or it is taken
 *   over after 60 s);
 * - a Redis-mode transition whose state key is not a hash (`OUTBOX_PRECONDITION_FAILED`),
 *   refused by the script after the aggregate's claim.
 * Both now name the claims written (`nothing but the aggregate's home claim was written
 * (order/o-1)`; the error's `claims`), and say "nothing was written" only when that is so (one
 * server; a write whose only claim is the refused one).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox, transitions } from '../src/index.js';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import { homeKey, partitionKeys } from '../src/stores/redis-keys.js';
import { openRedis, type RedisBackend } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const paid = (id: string) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: {} }, {});

describe.each(['redis', 'cluster'] as const)('what a refused Redis write says it wrote, on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('OUTBOX_AGGREGATE_PARTITION: the claims of the write\'s other aggregates are named; a lone refused aggregate wrote nothing', async () => {
    const [a, b] = [`a-${randomUUID().slice(0, 8)}`, `b-${randomUUID().slice(0, 8)}`];
    // b lives (numbered) in its own partition.
    await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['HSET', `${backend.prefix}order:{${b}}`, 's', '1']], events: [paid(b)] });
    const tag = `t-${randomUUID().slice(0, 8)}`;
    const write = (ids: string[]) =>
      redisWrite(backend.client, backend.prefix, { checks: [], commands: [['HSET', `${backend.prefix}order:{${tag}}`, 's', '1']], events: ids.map(paid) }).catch((e: unknown) => e);

    const alone = await write([b]);
    expect(alone).toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', aggregate: `order/${b}`, home: b, partition: tag, claims: [] });
    expect((alone as Error).message).toMatch(/; nothing was written$/);

    const both = await write([a, b]);
    expect(both).toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', aggregate: `order/${b}`, home: b, partition: tag, retryable: false });
    const home = await backend.client.get(homeKey(backend.prefix, `order/${a}`));
    if (name === 'cluster') {
      // a's claim landed (in parallel with b's refusal): it is what the write left, and the message says so.
      expect(home).toMatch(new RegExp(`^\\d+ ${tag}$`));
      expect((both as { claims: string[] }).claims).toEqual([`order/${a}`]);
      expect((both as Error).message).toMatch(new RegExp(`; nothing but the aggregate's home claim was written \\(order/${a}\\)$`));
    } else {
      // One server: the script checks and records homes itself, so a refused write records none.
      expect(home).toBeNull();
      expect((both as Error).message).toMatch(/; nothing was written$/);
    }
    // Nothing else: no state, no event in the write's partition.
    expect(await backend.client.exists(`${backend.prefix}order:{${tag}}`, partitionKeys(backend.prefix, tag).events)).toBe(0);
  });

  it('a transition whose state key is not a hash: the claim named on a cluster, "nothing was written" on one server', async () => {
    const store = redisOutbox({ client: backend.client, prefix: backend.prefix });
    const key = (id: string) => `${backend.prefix}order:{${id}}`;
    const fn = handler(
      { input: z.object({ id: z.string() }), use: [outbox({ events, store }), transitions({ table: { validated: ['paid'], paid: [] }, store, redisKey: key })], logSink: () => undefined },
      async ({ id }, ctx) => ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} }),
    );
    const id = `o-${randomUUID().slice(0, 8)}`;
    await backend.client.set(key(id), 'secret-7f3a');
    const refused = await fn.invoke({ id }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
    expect((refused as Error).message).toContain(`the aggregate's state key (redisKey(${JSON.stringify(id)})) holds a string`);
    expect((refused as Error).message).toMatch(name === 'cluster' ? new RegExp(`; nothing but the aggregate's home claim was written \\(order/${id}\\)$`) : /; nothing was written$/);
    expect(await backend.client.get(homeKey(backend.prefix, `order/${id}`))).toEqual(name === 'cluster' ? expect.stringMatching(new RegExp(`^\\d+ ${id}$`)) : null);
    expect(await backend.client.get(key(id))).toBe('secret-7f3a');
    expect(await backend.client.exists(partitionKeys(backend.prefix, id).events)).toBe(0);
  });
});
