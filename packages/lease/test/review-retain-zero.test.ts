/**
 * Review finding, documented rather than changed: with `retainMs: 0` a takeover after a lease
 * ran out gets the same fence as the holder it replaced (the key is gone with its generation).
 * This pins the behaviour the README and the option's TSDoc now describe, on a real Redis.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisLeaseStore } from '../src/index.js';

const redis = new Redis(process.env.REDIS_URL!);
const prefix = `lease-review-${randomUUID().slice(0, 8)}:`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('redisLeaseStore retainMs', () => {
  it('0: a takeover after expiry gets fence 1 again (fences do not increase)', async () => {
    const store = redisLeaseStore({ client: redis, prefix, retainMs: 0 });
    const first = await store.claim({ key: 'k0', owner: 'a', leaseMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = await store.claim({ key: 'k0', owner: 'b', leaseMs: 1_000 });
    expect(first).toMatchObject({ claimed: true, fence: 1 });
    expect(second).toMatchObject({ claimed: true, fence: 1 });
  });

  it('the default: the takeover gets a higher fence', async () => {
    const store = redisLeaseStore({ client: redis, prefix });
    const first = await store.claim({ key: 'k1', owner: 'a', leaseMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = await store.claim({ key: 'k1', owner: 'b', leaseMs: 1_000 });
    expect(first).toMatchObject({ claimed: true, fence: 1 });
    expect((second as { fence: number }).fence).toBeGreaterThan(1);
  });
});
