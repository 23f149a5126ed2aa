/**
 * The README's other client, `new Redis(url, { autoResendUnfulfilledCommands: false })`, "to get an
 * error instead of a resend": ioredis before 6.1.0 drops a command whose reply a reset lost
 * without settling it (redis/ioredis#2193), so a claim or settle on such a client waited for its
 * signal — for ever without one. The store makes the client reject those commands when it begins
 * to reconnect: the call fails `LEASE_STORE_UNAVAILABLE` ("may have been applied"), and a claim is
 * given back, the key free at once. Shown on the shared Redis behind the reply-cut proxy.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore, type RedisLeaseStore } from '../src/index.js';
import { proxiedRedis } from './support/proxied-redis.js';

describe('redisLeaseStore on a client that does not resend: a reply lost with its connection', () => {
  const rig = proxiedRedis('lease-dropped');
  let client: Redis;
  let store: RedisLeaseStore;
  beforeAll(async () => {
    client = new Redis(`redis://127.0.0.1:${rig.proxy.port}`, { autoResendUnfulfilledCommands: false });
    client.on('error', () => undefined);
    store = redisLeaseStore({ client, prefix: rig.prefix });
    // Loads the scripts: the next request holding the prefix is the call under test.
    const warmKey = randomUUID();
    const warm = await store.claim({ key: warmKey, owner: 'warm', leaseMs: 60_000 });
    if (warm.claimed) await store.settle({ key: warmKey, owner: 'warm', fence: warm.fence });
  });
  afterAll(() => client?.disconnect());

  it('claim (no signal): rejects LEASE_STORE_UNAVAILABLE, and the key it wrote is given back', async () => {
    const key = randomUUID();
    const cuts = rig.proxy.cuts;
    rig.proxy.on(rig.prefix, 'cut');
    await expect(store.claim({ key, owner: 'a', leaseMs: 60_000 })).rejects.toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE' });
    expect(rig.proxy.cuts).toBe(cuts + 1);
    expect(await rig.direct.exists(rig.prefix + key)).toBe(1); // the claim ran on the server
    const next = await store.claim({ key, owner: 'b', leaseMs: 60_000 });
    expect(next.claimed).toBe(true);
  }, 15_000);

  it('settle (no signal): rejects LEASE_STORE_UNAVAILABLE; the key is done, as the server applied it', async () => {
    const key = randomUUID();
    const claim = await store.claim({ key, owner: 'a', leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    rig.proxy.on(rig.prefix, 'cut');
    await expect(store.settle({ key, owner: 'a', fence: claim.fence, data: 'result', keepMs: 60_000 })).rejects.toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE' });
    expect(await store.get(key)).toMatchObject({ state: 'done', data: 'result' });
  }, 15_000);
});
