/** The Redis store's own edges, on the shared Redis: options, foreign values, Lua layout. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError, redisLeaseStore } from '../src/index.js';
import { openBackend, token, type Backend } from './support/backends.js';

describe('redis lease store', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('leaves a value it did not write alone, and says so', async () => {
    const key = `foreign:${randomUUID()}`;
    await backend.redis!.set(backend.prefix + key, 'someone else\'s', 'PX', 60_000);
    await expect(backend.store.claim({ key, owner: token(), leaseMs: 1000 })).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    await expect(backend.store.get(key)).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
    expect(await backend.store.settle({ key, owner: 'o', fence: 1 })).toBe(false);
    expect(await backend.redis!.get(backend.prefix + key)).toBe('someone else\'s');
  });

  it('keeps a record retainMs past its end, as the key\'s TTL says', async () => {
    const store = redisLeaseStore({ client: backend.redis as never, prefix: backend.prefix, retainMs: 5_000 });
    const key = `ttl:${randomUUID()}`;
    const claim = await store.claim({ key, owner: 'o', leaseMs: 2_000 });
    const pttl = await backend.redis!.pttl(backend.prefix + key);
    expect(pttl).toBeGreaterThan(6_000);
    expect(pttl).toBeLessThanOrEqual(7_000);
    expect(await backend.redis!.get(backend.prefix + key)).toBe(`h|${(claim as { fence: number }).fence}|5000|o|`);
    await store.settle({ key, owner: 'o', fence: (claim as { fence: number }).fence });
    // The release keeps who released it (so a release sent again is recognised as this owner's).
    expect(await backend.redis!.get(backend.prefix + key)).toBe('f|2|5000|o|');
    expect(await backend.redis!.pttl(backend.prefix + key)).toBeLessThanOrEqual(5_000);
    // Without retention, a release deletes the key.
    const none = redisLeaseStore({ client: backend.redis as never, prefix: backend.prefix, retainMs: 0 });
    const k2 = `ttl0:${randomUUID()}`;
    const c2 = await none.claim({ key: k2, owner: 'o', leaseMs: 2_000 });
    await none.settle({ key: k2, owner: 'o', fence: (c2 as { fence: number }).fence });
    expect(await backend.redis!.exists(backend.prefix + k2)).toBe(0);
  });

  it('takes a client getter, and checks its options up front', async () => {
    const store = redisLeaseStore({ client: async () => backend.redis as never, prefix: backend.prefix });
    expect(await store.claim({ key: `getter:${randomUUID()}`, owner: 'o', leaseMs: 1000 })).toMatchObject({ claimed: true });
    expect(() => redisLeaseStore({ client: {} as never })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'client' }));
    expect(() => redisLeaseStore({ client: backend.redis as never, retainMs: -5 })).toThrow(/option "retainMs" must be a whole number of milliseconds ≥ 0; got -5/);
    expect(() => redisLeaseStore({ client: backend.redis as never, prefix: 7 as never })).toThrow(expect.objectContaining({ field: 'prefix' }));
  });
});
