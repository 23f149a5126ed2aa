/**
 * A cached ioredis client whose socket's writable side has ended — the server's FIN read (a
 * server restarted, or a connection killed, while the instance was frozen), its `close` not yet
 * emitted — still says `status: 'ready'`, yet refuses every command (`Stream isn't writeable…`,
 * no offline queue in the profile). Before, `get()` handed it out within the idle threshold, and
 * a caller that is not `ctx.redis` (the idempotency or lease store on `() => cache.get()`) failed
 * on it; now the handle sees the ended socket and rebuilds the client at once.
 * Here the half-closed socket is made by ending the client's stream ourselves: the same state, without a freeze.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redis } from '../src/redis.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';

let server: OwnServer & { url: string };

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.dispose();
});

describe('redis(): a cached client whose socket was ended by the server', () => {
  it('get() rebuilds it instead of handing it out, and the new client answers', async () => {
    const cache = redis({ url: server.url, idleThresholdMs: 600_000 });
    try {
      const first = await cache.get();
      (first as unknown as { stream: { end(): void } }).stream.end();
      expect(first.status).toBe('ready');
      const lease = await cache.acquire();
      expect(lease.client).not.toBe(first);
      expect(lease.state).toBe('reconnected');
      expect(await lease.client.ping()).toBe('PONG');
    } finally {
      await cache.close();
    }
  });
});
