/**
 * Redis mode, one of the outbox's OWN keys (its stream, seq hash, pending and aggregate sets,
 * request marker, home key, partition list) holding another type — an application key that
 * shares the outbox's prefix:
 * - The atomic write failed with Redis's WRONGTYPE as `OUTBOX_STORE_UNAVAILABLE` (retryable,
 *   naming no key), so a queue redelivered the message forever.
 * - Worse, a key met only by the script's writes (the stream, the seq hash, the sets, the
 *   partition list) failed half way: the request marker, the home key and the state commands
 *   before it were written — a redelivery then answered "already applied" and the event was lost.
 * Now the script checks the type of each of its own keys before anything else: a typed,
 * non-retryable `OUTBOX_PRECONDITION_FAILED` naming the key's role, its name, its type and the
 * type expected (never what it holds), and nothing written.
 * - The sweep listing the partitions met the same as `OUTBOX_STORE_UNAVAILABLE` naming nothing;
 *   it is now the same 409 naming the partition list, pending set, sent set or quarantine hash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHash, randomUUID } from 'node:crypto';
import { prepareEvent, type EventDeclarations } from '../src/envelope.js';
import { homeKey, partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { redisWrite } from '../src/capture/redis.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { openRedis, type RedisBackend } from './support.js';

const events: EventDeclarations = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const paid = (id: string) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: {} }, { correlationId: 'c-1', causationId: 'm-1' });

type Role = { role: string; expected: string; key: (prefix: string, tag: string, id: string) => string };
const roles: Role[] = [
  { role: 'events stream', expected: 'stream', key: (p, t) => partitionKeys(p, t).events },
  { role: 'seq hash', expected: 'hash', key: (p, t) => partitionKeys(p, t).seq },
  { role: 'pending set', expected: 'zset', key: (p, t) => partitionKeys(p, t).pending },
  { role: 'aggregate set', expected: 'zset', key: (p, t, id) => partitionKeys(p, t).aggregate(`order/${id}`) },
  // The request marker's name is derived from the request key (in the test). On a cluster the
  // home key and the partition list are on other slots: met by the claim and the listing before the script.
  { role: 'request marker', expected: 'string', key: () => '' },
  { role: 'home key', expected: 'string', key: (p, _t, id) => homeKey(p, `order/${id}`) },
  { role: 'partition list', expected: 'set', key: (p) => partitionsKey(p) },
];

describe.each(['redis', 'cluster'] as const)('Redis outbox, its own key of another type, on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('OUTBOX_PRECONDITION_FAILED naming the role, key, its type and the type expected, never its value; nothing written', async () => {
    for (const r of roles) {
      const id = `o-${randomUUID().slice(0, 8)}`;
      const requestKey = `req-${randomUUID()}`;
      const state = `${backend.prefix}order:{${id}}`;
      // The request marker's name: the partition's applied key of the request key's sha256.
      const marker = partitionKeys(backend.prefix, id).applied(createHash('sha256').update(requestKey).digest('base64url'));
      const own = r.role === 'request marker' ? marker : r.key(backend.prefix, id, id);
      // A hash for a string role, a string otherwise: the value reads like a secret a message must not show.
      if (r.expected === 'string') await backend.client.hset(own, 'f', 'secret-7f3a');
      else await backend.client.set(own, 'secret-7f3a');
      const refused = await redisWrite(backend.client, backend.prefix, {
        checks: [],
        commands: [['HSET', state, 'status', 'paid']],
        events: [paid(id)],
        requestKey: { key: requestKey, ttlMs: 60_000 },
      }).catch((e: unknown) => e);
      expect(refused, r.role).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', status: 409, retryable: false });
      const found = r.expected === 'string' ? 'hash' : 'string';
      expect((refused as Error).message, r.role).toContain(`the outbox's own ${r.role} key ${JSON.stringify(own)} holds a ${found}; expected a ${r.expected}`);
      // Redis Cluster: the home claim is made before the script (another slot), so a refusal
      // after it says so; the claim is an unconfirmed one (taken over after HOME_TAKEOVER_MS).
      const leavesClaim = name === 'cluster' && r.role !== 'home key';
      expect((refused as Error).message, r.role).toContain(leavesClaim ? "nothing but the aggregate's home claim was written" : 'nothing was written');
      expect((refused as Error).message).not.toContain('secret');
      // Nothing written: no state, no marker, no home (but the claim, on a cluster), no stream; the colliding key untouched.
      expect(await backend.client.exists(state), r.role).toBe(0);
      const k = partitionKeys(backend.prefix, id);
      for (const other of [k.events, k.seq, k.pending, k.aggregate(`order/${id}`)].filter((x) => x !== own)) expect(await backend.client.exists(other), `${r.role}: ${other}`).toBe(0);
      if (r.role !== 'request marker') expect(await backend.client.exists(marker), r.role).toBe(0);
      if (name === 'redis' && r.role !== 'home key') expect(await backend.client.exists(homeKey(backend.prefix, `order/${id}`)), r.role).toBe(0);
      // On a cluster the home key holds this write's claim, `<ms> <tag>` of its partition (a fresh aggregate).
      if (leavesClaim) expect(await backend.client.get(homeKey(backend.prefix, `order/${id}`)), r.role).toMatch(new RegExp(`^\\d+ ${id}$`));
      expect(await backend.client.type(own), r.role).toBe(found);
      if (found === 'string') expect(await backend.client.get(own)).toBe('secret-7f3a');
      else expect(await backend.client.hgetall(own)).toEqual({ f: 'secret-7f3a' });
      await backend.client.del(own);
    }
  });

  it('the sweep listing pending aggregates: the same 409 naming the partition list; a partition\'s pending set, sent set, quarantine hash: that partition skipped with it', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const list = partitionsKey(backend.prefix);
    const tag = `t-${randomUUID().slice(0, 8)}`;
    const k = partitionKeys(backend.prefix, tag);
    const seeds: Array<[string, string, string, () => Promise<unknown>]> = [
      ['partition list', list, 'set', () => backend.client.set(list, 'secret-7f3a')],
      ['pending set', k.pending, 'zset', () => backend.client.sadd(list, tag).then(() => backend.client.set(k.pending, 'secret-7f3a'))],
      ['sent set', k.sent, 'zset', () => backend.client.set(k.sent, 'secret-7f3a')],
      ['quarantine hash', k.quarantine, 'hash', () => backend.client.set(k.quarantine, 'secret-7f3a')],
    ];
    for (const [role, key, expected, seed] of seeds) {
      await seed();
      // The partition list: the sweep fails (it lists no partition). One partition's key: that
      // partition is skipped with the same refusal (review-obx-relay-own-key-types), the others served.
      const skips: Array<{ code: string; reason: string }> = [];
      const refused = await store.listPending({ limit: 10, before: Date.now(), onSkip: (s) => skips.push(s) }).then(
        () => Object.assign(new Error(skips[0]?.reason), skips[0]),
        (e: unknown) => e,
      );
      expect(skips, role).toHaveLength(role === 'partition list' ? 0 : 1);
      expect(refused, role).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
      expect((refused as Error).message, role).toContain(`the outbox's own ${role} key ${JSON.stringify(key)} holds a string; expected a ${expected}`);
      expect((refused as Error).message).not.toContain('secret');
      await backend.client.del(key);
    }
    await backend.client.del(list);
  });
});
