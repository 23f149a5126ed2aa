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
 * Redis Cluster: a write refused after it claimed its aggregates' homes (a failed check) says
 * so — nothing but the aggregate's home claim was written — rather than "nothing was written".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHash, randomUUID } from 'node:crypto';
import { prepareEvent, type EventDeclarations } from '../src/envelope.js';
import { homeKey, partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { redisWrite, type RedisCheck, type RedisCommand } from '../src/capture/redis.js';
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

  it('a write refused by a check says what it wrote: nothing, or on a cluster only the home claim', async () => {
    const id = `o-${randomUUID().slice(0, 8)}`;
    const state = `${backend.prefix}order:{${id}}`;
    const refused = await redisWrite(backend.client, backend.prefix, {
      checks: [{ key: state, exists: true, label: 'order exists' }],
      commands: [['HSET', state, 'status', 'paid']],
      events: [paid(id)],
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', status: 409 });
    const k = partitionKeys(backend.prefix, id);
    for (const key of [state, k.events, k.seq, k.pending, k.aggregate(`order/${id}`)]) expect(await backend.client.exists(key), key).toBe(0);
    const home = await backend.client.get(homeKey(backend.prefix, `order/${id}`));
    if (name === 'redis') {
      // One server: the claim is part of the script, which refused before writing.
      expect((refused as Error).message).toContain('; nothing was written');
      expect(home).toBeNull();
    } else {
      // Cluster: the claim was made before the script (another slot) and stays, unconfirmed.
      expect((refused as Error).message).toContain("; nothing but the aggregate's home claim was written");
      expect(home).toMatch(new RegExp(`^\\d+ ${id}$`));
    }
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
