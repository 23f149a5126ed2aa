/**
 * Handles made per tenant (a URL per customer, built when a request names it) and closed after
 * use: every handle stayed in the process-wide set `closeAll()` and SIGTERM walk, for ever — a
 * warm instance grew by one handle (its lifecycle, stats and closures) per invocation, and every
 * SIGTERM walked them all. Found in review: 200 handles used and closed, 200 still held.
 *
 * A handle is held while it has a client (or a connect under way), so `closeAll()` and SIGTERM
 * still reach every live client — checked below against the real Redis by its CLIENT LIST.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, forget } from '../src/index.js';
import { redis } from '../src/redis.js';
import { registeredHandles } from '../src/registry.js';
import { requireService } from '../../../test/services/env.js';

let admin: Redis;

beforeAll(async () => {
  await requireService('redis');
  admin = new Redis(process.env.REDIS_URL!, { lazyConnect: true });
  await admin.connect();
});
afterEach(closeAll);
afterAll(() => admin?.disconnect());

/** Connections the server holds under this client name. */
async function connectionsNamed(name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

describe('handles made and closed per tenant', () => {
  it('a handle used and closed is not held by the registry any more', async () => {
    const before = registeredHandles().length;
    for (let i = 0; i < 200; i++) {
      const tenant = redis({ name: `tenant-${i}` });
      await tenant.read((r) => r.ping());
      await tenant.close();
    }
    expect(registeredHandles().length - before).toBe(0);
  });

  it('closeAll() still closes a live client of a handle that was closed and used again', async () => {
    const connectionName = `reg-${randomUUID().slice(0, 8)}`;
    const tenant = redis({ name: 'tenant-again', options: { connectionName } });
    await tenant.read((r) => r.ping());
    await tenant.close();
    await tenant.read((r) => r.ping());
    expect(await connectionsNamed(connectionName)).toBe(1);
    await closeAll();
    expect(tenant.peek()).toBeUndefined();
    expect(await connectionsNamed(connectionName)).toBe(0);
  });

  it('closeAll() reaches a handle whose first connect is under way', async () => {
    const connectionName = `reg-${randomUUID().slice(0, 8)}`;
    const tenant = redis({ name: 'tenant-connecting', options: { connectionName } });
    const first = tenant.get();
    await closeAll();
    await first.catch(() => undefined);
    expect(tenant.peek()).toBeUndefined();
    expect(await connectionsNamed(connectionName)).toBe(0);
  });

  it('a forgotten handle stays forgotten when it connects again', async () => {
    const tenant = redis({ name: 'tenant-forgotten' });
    await tenant.read((r) => r.ping());
    forget(tenant);
    await tenant.close();
    await tenant.read((r) => r.ping());
    expect(registeredHandles()).not.toContain(tenant);
    await tenant.close();
  });
});
