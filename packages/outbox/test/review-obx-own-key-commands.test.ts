/**
 * Redis mode, a state command or check aimed at one of the outbox's OWN keys (its pending set,
 * stream, request marker, …): the own keys' types were checked before the commands were
 * simulated and never again, so `SET <pending> x` after an event passed every check and the
 * script failed half way with WRONGTYPE — the request marker, the state and the stream entry
 * written, the event never in the pending set, and the error a retryable "nothing was written"
 * whose redelivery answered "already applied": the event was lost. Now such a command or check
 * is refused before anything is sent (`OUTBOX_EVENT_INVALID` naming `commands.<i>.key` and the
 * key's role, never a value).
 *
 * Redis Cluster, a write refused after it claimed its aggregates' homes (a wrong-typed own key,
 * a failed check): the claims stayed, holding the aggregate from any other partition for
 * `HOME_TAKEOVER_MS`, while the refusal said "nothing was written". The claims it made are now
 * taken back — only while no other write of the partition reused them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHash, randomUUID } from 'node:crypto';
import { prepareEvent, type EventDeclarations } from '../src/envelope.js';
import { homeKey, partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { redisWrite, type RedisCheck, type RedisCommand } from '../src/capture/redis.js';
import { claimHome, releaseClaims } from '../src/capture/redis-home.js';
import { openRedis, type RedisBackend } from './support.js';

const events: EventDeclarations = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const paid = (id: string) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: {} }, { correlationId: 'c-1', causationId: 'm-1' });

describe.each(['redis', 'cluster'] as const)('Redis outbox, state aimed at its own keys, on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('a command or check on an own key: OUTBOX_EVENT_INVALID naming the field and the role, nothing written', async () => {
    const cases: Array<[string, (k: ReturnType<typeof partitionKeys>, marker: string) => { commands?: RedisCommand[]; checks?: RedisCheck[] }, string, string]> = [
      ['SET on the pending set', (k) => ({ commands: [['SET', k.pending, 'x']] }), 'commands.1.key', 'pending set'],
      ['DEL of the stream', (k) => ({ commands: [['DEL', k.events]] }), 'commands.1.key', 'events stream'],
      ['HSET on the seq hash', (k) => ({ commands: [['HSET', k.seq, 'order/x', '7']] }), 'commands.1.key', 'seq hash'],
      ['ZREM from an aggregate set', (k) => ({ commands: [['ZREM', k.aggregate('order/x'), '1-0']] }), 'commands.1.key', 'aggregate set'],
      ['DEL of the request marker', (_k, marker) => ({ commands: [['DEL', marker]] }), 'commands.1.key', 'request marker'],
      ['SET on the quarantine hash', (k) => ({ commands: [['SET', k.quarantine, 'x']] }), 'commands.1.key', 'quarantine hash'],
      ['a check on the stream', (k) => ({ checks: [{ key: k.events, absent: true }] }), 'checks.0.key', 'events stream'],
    ];
    for (const [label, make, field, role] of cases) {
      const id = `o-${randomUUID().slice(0, 8)}`;
      const requestKey = `req-${randomUUID()}`;
      const state = `${backend.prefix}order:{${id}}`;
      const k = partitionKeys(backend.prefix, id);
      const marker = k.applied(createHash('sha256').update(requestKey).digest('base64url'));
      const extra = make(k, marker);
      const refused = await redisWrite(backend.client, backend.prefix, {
        checks: extra.checks ?? [],
        commands: [['HSET', state, 'status', 'paid-secret-7f3a'], ...(extra.commands ?? [])],
        events: [paid(id)],
        requestKey: { key: requestKey, ttlMs: 60_000 },
      }).catch((e: unknown) => e);
      expect(refused, label).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false, issues: [{ field }] });
      const own = extra.commands?.[0]?.[1] ?? extra.checks![0]!.key;
      expect((refused as Error).message, label).toContain(`${field} targets the outbox's own ${role} key ${JSON.stringify(own)}`);
      expect((refused as Error).message, label).not.toContain('secret');
      // Nothing written: no state, no marker, no stream entry, no pending entry, no home.
      for (const key of [state, marker, k.events, k.seq, k.pending, k.aggregate(`order/${id}`), homeKey(backend.prefix, `order/${id}`)]) {
        expect(await backend.client.exists(key), `${label}: ${key}`).toBe(0);
      }
    }
  });

  it('a write refused by a check after its home claim leaves no claim; a later write of another partition is not held', async () => {
    const id = `o-${randomUUID().slice(0, 8)}`;
    const state = `${backend.prefix}order:{${id}}`;
    const refused = await redisWrite(backend.client, backend.prefix, {
      checks: [{ key: state, exists: true, label: 'order exists' }],
      commands: [['HSET', state, 'status', 'paid']],
      events: [paid(id)],
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', status: 409 });
    expect((refused as Error).message).toContain('nothing was written');
    expect(await backend.client.exists(homeKey(backend.prefix, `order/${id}`))).toBe(0);
    // The same aggregate written from another partition is accepted (not held by a stale claim).
    const other = `${backend.prefix}other:{${id}-b}`;
    const ok = await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['SET', other, '1']], events: [paid(id)] });
    expect(ok.events).toHaveLength(1);
  });
});

describe('Redis outbox own keys, one server', () => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis('redis');
  });
  afterAll(async () => {
    await backend.close();
  });

  it('the home key and the partition list (untagged keys, one server) are refused too', async () => {
    for (const [key, role] of [[homeKey(backend.prefix, 'order/x'), 'home key'], [partitionsKey(backend.prefix), 'partition list']] as const) {
      const refused = await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['SET', key, 'x']], events: [] }).catch((e: unknown) => e);
      expect(refused, role).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'commands.0.key' }] });
      expect((refused as Error).message).toContain(`the outbox's own ${role} key`);
      expect(await backend.client.exists(key), role).toBe(0);
    }
  });
});

describe('Redis outbox home claims, cluster', () => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis('cluster');
  });
  afterAll(async () => {
    await backend.close();
  });

  it('a claim another write of the partition reused is not released by the write that made it', async () => {
    const agg = `order/o-${randomUUID().slice(0, 8)}`;
    const tag = `t-${randomUUID().slice(0, 8)}`;
    const first = await claimHome(backend.client, backend.prefix, tag, agg);
    expect(first.made).toBe(true);
    const second = await claimHome(backend.client, backend.prefix, tag, agg);
    expect(second.made).toBe(false);
    expect(second.deadline).toBe(first.deadline);
    await releaseClaims(backend.client, backend.prefix, [{ agg, ...first }]);
    expect(await backend.client.get(homeKey(backend.prefix, agg))).toBe(second.value);
    // Released when still exactly the claim made.
    const agg2 = `${agg}-2`;
    const made = await claimHome(backend.client, backend.prefix, tag, agg2);
    await releaseClaims(backend.client, backend.prefix, [{ agg: agg2, ...made }]);
    expect(await backend.client.exists(homeKey(backend.prefix, agg2))).toBe(0);
  });
});
