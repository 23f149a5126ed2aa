/**
 * The shared Redis behind a reply-cut proxy, for tests that lose a claim's reply in flight: the
 * proxy, a direct client to check the keys, and a prefix of the suite's own, dropped after it.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { requireService } from '../../../../test/services/env.js';
import { startReplyCutProxy, type ReplyCutProxy } from '../../../../test/support/reply-cut-proxy.js';
import { dropPrefix } from '../../../../test/support/redis.js';

/** Registers the suite's `beforeAll`/`afterAll`; read `proxy` and `direct` inside tests (set once `beforeAll` ran). */
export function proxiedRedis(name: string, setup?: (direct: Redis, prefix: string) => Promise<void>): { proxy: ReplyCutProxy; direct: Redis; readonly prefix: string } {
  const rig = { proxy: undefined as unknown as ReplyCutProxy, direct: undefined as unknown as Redis, prefix: `${name}:${randomUUID()}:` };
  beforeAll(async () => {
    await requireService('redis');
    rig.proxy = await startReplyCutProxy(Number(new URL(process.env.REDIS_URL!).port || 6379));
    rig.direct = new Redis(process.env.REDIS_URL!);
    await setup?.(rig.direct, rig.prefix);
  });
  afterAll(async () => {
    if (rig.direct) await dropPrefix(rig.direct, rig.prefix);
    rig.direct?.disconnect();
    await rig.proxy?.close();
  });
  return rig;
}
