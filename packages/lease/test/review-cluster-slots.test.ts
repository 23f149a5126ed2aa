/**
 * Review (try-to-break) finding on the Redis store's batches on the 3-master Redis Cluster:
 * a batch is split by slot, one script per slot. The slots came from `cluster-key-slot`,
 * which differs from Redis for keys whose first `{` is followed at once by `}` and that have
 * another `}` later (`x{}{a}`): Redis hashes those whole. Such a key was grouped with keys of
 * another slot and `claimMany`/`settleMany` failed with `CROSSSLOT`. Slots must be the server's
 * (`CLUSTER KEYSLOT`) for every key.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSlot } from '../src/stores/redis-slot.js';
import { openBackend, token, type Backend } from './support/backends.js';

describe('Redis Cluster slots of odd keys', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('cluster');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('claimMany and settleMany take keys with empty and later hash tags', async () => {
    const r = randomUUID().slice(0, 6);
    const keys = [`x{}{a}${r}`, `x{}a}${r}`, `{a}1${r}`, `{{a}}${r}`, `}{a}${r}`, `{}x${r}`, `{a${r}`, `a}${r}`, `é{}{é}${r}`];
    const claims = await backend.store.claimMany(keys.map((key) => ({ key, owner: token(), leaseMs: 5000 })));
    expect(claims.every((c) => c.claimed)).toBe(true);
    const settled = await backend.store.settleMany(keys.map((key, i) => ({ key, owner: 'someone-else', fence: (claims[i] as { fence: number }).fence })));
    expect(settled).toEqual(keys.map(() => false));
  });

  it('every key has the slot the server gives it', async () => {
    const cluster = backend.redis as Cluster;
    const alphabet = fc.constantFrom('{', '}', 'a', 'b', 'é', '😀', ':');
    const keys = fc.sample(fc.array(alphabet, { minLength: 0, maxLength: 8 }).map((chars) => chars.join('')), { numRuns: 400, seed: 7 });
    keys.push('x{}{a}', 'x{}a}', '{}', '{}{}', '{', '}', '');
    for (const key of keys) expect(clusterSlot(key), JSON.stringify(key)).toBe(Number(await cluster.cluster('KEYSLOT', key)));
  });
});
