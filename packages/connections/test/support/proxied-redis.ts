/**
 * The shared Redis (REDIS_URL) behind a fault proxy for a test file: registers `beforeAll`
 * (proxy up, a direct client to seed and check keys), `afterAll` (both closed) and `afterEach`
 * (every cached connection closed). Read `proxy` and `direct` inside tests.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { closeAll } from '../../src/index.js';
import { startProxy, type FaultProxy } from './proxy.js';

export function proxiedRedis(): { proxy: FaultProxy; direct: Redis } {
  const port = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379').port);
  const rig = { proxy: undefined as unknown as FaultProxy, direct: undefined as unknown as Redis };
  beforeAll(async () => {
    rig.proxy = await startProxy(port);
    rig.direct = new Redis(port);
  });
  afterAll(async () => {
    await rig.proxy?.close();
    await rig.direct?.quit();
  });
  afterEach(async () => {
    await closeAll();
  });
  return rig;
}
