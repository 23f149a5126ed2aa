import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, type EventDeclarations } from '../envelope.js';
import { partitionKeys } from '../stores/redis-keys.js';
import { openRedis, type RedisBackend } from '../../test/support.js';
import { redisWrite, type RedisCommand } from './redis.js';

const events: EventDeclarations = {
  OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) },
};
const meta = { correlationId: 'c-1', causationId: 'm-1' };
const paid = (id: string, amountCents = 100) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: { amountCents } }, meta);

describe.each(['redis', 'cluster'] as const)('Redis capture on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('writes state and events in one script, with per-aggregate seq from 1', async () => {
    const state = `${backend.prefix}order:{o-1}`;
    const first = await redisWrite(backend.client, backend.prefix, {
      checks: [{ key: state, field: 'status', absent: true }],
      commands: [['HSET', state, 'status', 'paid', 'amount', 100]],
      events: [paid('o-1'), paid('o-1', 5)],
    });
    expect(first.partition).toBe('o-1');
    expect(first.events.map((e) => e.seq)).toEqual([1, 2]);
    const second = await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['HINCRBY', state, 'amount', 5]], events: [paid('o-1', 7)] });
    expect(second.events[0]!.seq).toBe(3);
    expect(await backend.client.hgetall(state)).toEqual({ status: 'paid', amount: '105' });
    const keys = partitionKeys(backend.prefix, 'o-1');
    const entries = await backend.client.xrange(keys.events, '-', '+');
    expect(entries).toHaveLength(3);
    const envelopes = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('e') + 1]!));
    expect(envelopes.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(envelopes[2]).toMatchObject({ type: 'OrderPaid', aggregateType: 'order', aggregateId: 'o-1', payload: { amountCents: 7 }, correlationId: 'c-1', causationId: 'm-1', schemaVersion: 1 });
    expect(await backend.client.zrange(keys.aggregate('order/o-1'), '0', '-1')).toEqual(entries.map(([id]) => id));
    expect(await backend.client.zscore(keys.pending, 'order/o-1')).toBe(entries[0]![0].split('-')[0]);
  });

  it('leaves nothing when a precondition fails', async () => {
    const state = `${backend.prefix}order:{o-2}`;
    await backend.client.hset(state, 'status', 'validated');
    await expect(
      redisWrite(backend.client, backend.prefix, {
        checks: [{ key: state, field: 'status', equals: 'paid', label: 'order is paid' }],
        commands: [['HSET', state, 'status', 'dispatched']],
        events: [paid('o-2')],
      }),
    ).rejects.toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', status: 409, message: expect.stringContaining('order is paid') });
    expect(await backend.client.hget(state, 'status')).toBe('validated');
    const keys = partitionKeys(backend.prefix, 'o-2');
    expect(await backend.client.exists(keys.events, keys.seq, keys.pending)).toBe(0);
  });

  it('leaves nothing when a command would fail at run time (no event without state)', async () => {
    const state = `${backend.prefix}order:{o-3}`;
    const counter = `${backend.prefix}count:{o-3}`;
    await backend.client.set(counter, 'not-a-number');
    const wrongType = `${backend.prefix}list:{o-3}`;
    await backend.client.rpush(wrongType, 'x');
    const attempts: RedisCommand[][] = [
      [['HSET', state, 'status', 'paid'], ['INCRBY', counter, 1]],
      [['HSET', state, 'status', 'paid'], ['HSET', wrongType, 'f', 'v']],
      [['HSET', state, 'n', 'abc'], ['HINCRBY', state, 'n', 5]],
      [['SET', counter, '9007199254740990'], ['INCRBY', counter, 5]],
    ];
    for (const commands of attempts) {
      await expect(redisWrite(backend.client, backend.prefix, { checks: [], commands, events: [paid('o-3')] })).rejects.toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
    }
    expect(await backend.client.exists(state)).toBe(0);
    expect(await backend.client.get(counter)).toBe('not-a-number');
    expect(await backend.client.exists(partitionKeys(backend.prefix, 'o-3').events)).toBe(0);
  });

  it('checks types through the write: DEL then HSET on a key that held a string is fine', async () => {
    const state = `${backend.prefix}order:{o-4}`;
    await backend.client.set(state, 'legacy');
    await redisWrite(backend.client, backend.prefix, { checks: [{ key: state, exists: true }], commands: [['DEL', state], ['HSET', state, 'status', 'new']], events: [paid('o-4')] });
    expect(await backend.client.hgetall(state)).toEqual({ status: 'new' });
  });

  it('refuses keys across hash tags before sending anything', async () => {
    await expect(
      redisWrite(backend.client, backend.prefix, { checks: [], commands: [['SET', `${backend.prefix}a:{x}`, '1'], ['SET', `${backend.prefix}b:{y}`, '1']], events: [paid('x')] }),
    ).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await backend.client.exists(`${backend.prefix}a:{x}`)).toBe(0);
  });

  it('keeps seq strictly increasing per aggregate under concurrent writers', async () => {
    const state = `${backend.prefix}order:{o-5}`;
    await Promise.all(Array.from({ length: 50 }, () => redisWrite(backend.client, backend.prefix, { checks: [], commands: [['HINCRBY', state, 'n', 1]], events: [paid('o-5')] })));
    const entries = await backend.client.xrange(partitionKeys(backend.prefix, 'o-5').events, '-', '+');
    expect(entries.map(([, f]) => Number(f[f.indexOf('s') + 1]))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await backend.client.hget(state, 'n')).toBe('50');
  });
});

describe('Redis capture on cluster', () => {
  it('refuses untagged keys on a cluster (they would cross slots)', async () => {
    const backend = await openRedis('cluster');
    try {
      await expect(redisWrite(backend.client, backend.prefix, { checks: [], commands: [['SET', `${backend.prefix}plain`, '1']], events: [paid('p')] })).rejects.toThrow(/hash tag/);
    } finally {
      await backend.close();
    }
  });
});
