/**
 * Redis mode, long partition (hash) tags. The relay lease key `<prefix>{tag}:lease:<aggregate>`
 * was unbounded: past the lease store's 1,024 characters every flush and sweep stopped with
 * `LEASE_REQUEST_INVALID` and the events stayed pending for good (a warning, `skipped: []`);
 * a relay key just under the limit relayed and quarantined, but its redrive lease key
 * (`…:redrive:<fromSeq>:<quarantinedAt>`) passed it, so `redrive()` always threw. Now a lease
 * key that would pass the limit holds the aggregate hashed (same tag, same slot), and a write
 * whose tag is too long even for that is refused before anything is written, naming the limit
 * and the tag's length, never the tag. Redis :16379 and Redis Cluster :17001-3.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '@steadyfn/outbox';
import { redisOutbox } from '../src/stores/redis.js';
import { partitionKeys } from '../src/stores/redis-keys.js';
import { openRedis, runCtx, scriptedSender, tickEvents, type RedisBackend } from './support.js';

/** The longest tag a write may use: the relay lease key with a hashed aggregate (`#` + 43) and a redrive's suffix (40) fit 1,024. */
const maxPartitionTagLength = (prefix: string): number => 1024 - 40 - `${prefix}{}:lease:#`.length - 43;

describe.each(['redis', 'cluster'] as const)('a long partition tag on %s', (name) => {
  let redis: RedisBackend;
  beforeAll(async () => {
    redis = await openRedis(name);
  });
  afterAll(async () => {
    await redis.close();
  });

  /** An outbox under a fresh prefix and a function writing one Tick of `id` in partition `tag`. */
  function setup(tag: string, sender = scriptedSender(), lines: string[] = []) {
    const prefix = `${redis.prefix}${randomUUID().slice(0, 6)}:`;
    const store = redisOutbox({ client: redis.client, prefix });
    const box = outbox({ events: tickEvents, store, relay: { sender, lease: redis.lease, flush: false, sweep: { graceMs: 0 } } });
    const stateKey = `${prefix}n:{${tag}}`;
    const fn = handler({ input: z.object({ id: z.string() }), use: [box], logSink: (line) => void lines.push(line) }, async (input, ctx) => {
      ctx.outbox.call('HSET', stateKey, 'n', '1');
      ctx.outbox.add({ type: 'Tick', aggregateId: input.id, payload: { n: 1 } });
      return 'ok';
    });
    return { prefix, store, box, fn, stateKey, sender };
  }

  it('relays an aggregate whose relay lease key would pass 1,024 characters', async () => {
    const tag = 't'.repeat(maxPartitionTagLength(`${redis.prefix}xxxxxx:`));
    const { prefix, box, fn, sender } = setup(tag);
    const id = `o-${'x'.repeat(248)}`;
    expect(`${prefix}{${tag}}:lease:tick/${id}`.length).toBeGreaterThan(1024);
    expect(await fn.invoke({ id })).toBe('ok');
    const swept = await box.sweep(runCtx());
    expect(swept.skipped).toEqual([]);
    expect(sender.accepted.map((m) => (JSON.parse(m.body) as { aggregateId: string }).aggregateId)).toEqual([id]);
    expect(await redis.client.xlen(partitionKeys(prefix, tag).events)).toBe(0);
  });

  it('redrives a quarantine whose relay lease key fits but whose redrive lease key would not', async () => {
    const tag = 't'.repeat(maxPartitionTagLength(`${redis.prefix}xxxxxx:`));
    const refusing = scriptedSender(() => 'fault');
    const { prefix, store, box, fn } = setup(tag, refusing);
    const base = `${prefix}{${tag}}:lease:tick/`.length;
    const id = `o-${'x'.repeat(1010 - base - 2)}`;
    expect(`${prefix}{${tag}}:lease:tick/${id}`.length).toBe(1010);
    expect(await fn.invoke({ id })).toBe('ok');
    await box.sweep(runCtx());
    const [entry] = await store.relay.listQuarantined({ limit: 10 });
    expect(entry?.aggregate).toBe(`tick/${id}`);
    const sender = scriptedSender();
    const again = outbox({ events: tickEvents, store, relay: { sender, lease: redis.lease, flush: false, sweep: { graceMs: 0 } } });
    const result = await again.redrive(runCtx(), entry!);
    expect(result.redriven).toBe(true);
    expect(sender.accepted).toHaveLength(1);
    expect(await store.relay.listQuarantined({ limit: 10 })).toEqual([]);
  });

  it.each([1000, 1100])('refuses a write with a %i-character tag before anything is written, naming the limit and length, not the tag', async (length) => {
    const tag = `${'q'.repeat(length - 1)}Z`;
    const lines: string[] = [];
    const { prefix, fn, stateKey } = setup(tag, scriptedSender(), lines);
    const max = maxPartitionTagLength(prefix);
    const error = await fn.invoke({ id: 'o-1' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    // The invocation's error log names the field, the limit and the tag's length, never the tag.
    const logged = lines.at(-1)!;
    expect(JSON.parse(logged)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'keys', expected: `a hash tag of at most ${max} characters (got ${length})` }] });
    expect(logged).not.toContain('qqqqZ');
    expect(await redis.client.exists(stateKey)).toBe(0);
    expect(await redis.client.exists(partitionKeys(prefix, tag).events)).toBe(0);
  });
});
