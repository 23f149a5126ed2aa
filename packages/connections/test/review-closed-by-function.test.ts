/**
 * Fresh-eyes review of "a client the function closed itself is rebuilt on its next use"
 * (3908096): the function's own quit() racing commands of a concurrent invocation on the same
 * instance, on the shared Redis. QUIT is answered after every command written before it
 * (Redis runs a connection's commands in order), so nothing written before it may be lost, and
 * the QUIT itself must answer OK.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, defineClient } from '../src/index.js';
import { redis, redisCluster } from '../src/redis.js';
import { requireService } from '../../../test/services/env.js';

const run = randomUUID().slice(0, 8);
const url = process.env.REDIS_URL ?? '';
const shared = new Redis(url, { lazyConnect: true });

beforeAll(async () => {
  await requireService('redis');
  await requireService('redis-cluster');
});

function clusterNodes(): { host: string; port: number }[] {
  return (process.env.REDIS_CLUSTER_NODES ?? '').split(',').map((hp) => ({ host: hp.split(':')[0]!, port: Number(hp.split(':')[1]) }));
}

afterEach(async () => {
  await closeAll();
});
afterAll(() => shared.disconnect());

async function outcome<T>(p: Promise<T>): Promise<{ value: T } | { code: unknown; message: string }> {
  try {
    return { value: await p };
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
}

describe('quit() by one invocation while another has commands in flight', () => {
  it('the write written before the QUIT answers its reply (applied once), the QUIT answers OK, and the next command runs on a rebuilt client', async () => {
    const key = `review:closed:${run}:incr`;
    try {
      const handle = redis({ url });
      const first = await handle.get();
      const view = handle.contextValue(first);
      // Invocation B's write, then invocation A's quit() (not awaited), then B's next command, all in one tick.
      const incr = outcome(view.incr(key));
      const quit = outcome(view.quit());
      const next = outcome(view.get(key));
      expect(await incr).toEqual({ value: 1 });
      expect(await quit).toEqual({ value: 'OK' });
      expect(await next).toEqual({ value: '1' });
      expect(handle.peek()).not.toBe(first);
      expect(await shared.get(key)).toBe('1');
    } finally {
      await shared.del(key);
    }
  });

  it('disconnect() not awaited, then the next command at once: it runs on a rebuilt client', async () => {
    const key = `review:closed:${run}:disc`;
    try {
      const handle = redis({ url });
      const first = await handle.get();
      const view = handle.contextValue(first);
      expect(await view.incr(key)).toBe(1);
      view.disconnect();
      expect(await view.incr(key)).toBe(2);
      expect(handle.peek()).not.toBe(first);
      expect(await shared.get(key)).toBe('2');
    } finally {
      await shared.del(key);
    }
  });
});

describe('a Cluster client quit() by the function', () => {
  // Found here: the rebuild that B's next command starts closed the quitting Cluster with
  // disconnect() at once, which dropped B's INCR still waiting in a node connection that was
  // connecting (redisCluster() connects the other masters lazily): CONNECTION_LOST, never applied.
  it('writes in flight on every master before quit() answer once, quit() answers OK, and the next command runs on a rebuilt Cluster', async () => {
    const admin = new Cluster(clusterNodes(), { lazyConnect: true });
    const handle = redisCluster({ nodes: clusterNodes() });
    const keys: string[] = [];
    try {
      await admin.connect();
      const first = await handle.get();
      // One key per master, so some INCR goes to a node connection not connected yet (status "wait").
      const masters = new Set(first.nodes('master').map((n) => `${n.options.host}:${n.options.port}`));
      for (let i = 0; masters.size > 0 && i < 10_000; i++) {
        const key = `review:closed:${run}:cluster:${i}`;
        const owner = first.slots[Number(await admin.call('cluster', 'keyslot', key))]?.[0];
        if (owner && masters.delete(owner)) keys.push(key);
      }
      expect(masters.size).toBe(0);
      expect(first.nodes('master').map((n) => n.status)).toContain('wait');
      const view = handle.contextValue(first);
      const incrs = keys.map((key) => outcome(view.incr(key)));
      const quit = outcome(view.quit());
      const next = outcome(view.get(keys[0]!));
      for (const incr of incrs) expect(await incr).toEqual({ value: 1 });
      expect(await quit).toEqual({ value: 'OK' });
      expect(await next).toEqual({ value: '1' });
      expect(handle.peek()).not.toBe(first);
      for (const key of keys) expect(await admin.get(key)).toBe('1');
    } finally {
      if (keys.length) await Promise.all(keys.map((k) => admin.del(k))).catch(() => undefined);
      admin.disconnect();
    }
  });
});

describe('a client the caller built (defineClient) that the function quit()s', () => {
  const build = async (): Promise<Redis> => {
    const c = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await c.connect();
    return c;
  };

  it('without isReady the handle cannot know: the next write fails once with CONNECTION_LOST (not applied), then a rebuilt client serves', async () => {
    const key = `review:closed:${run}:own`;
    try {
      const handle = defineClient({ name: 'own-redis', create: build, close: (c) => c.disconnect() });
      expect(await handle.run((c) => c.incr(key))).toBe(1);
      await handle.run((c) => c.quit());
      const err = await handle.run((c) => c.incr(key)).catch((e: unknown) => e as { code?: string });
      expect(err).toMatchObject({ code: 'CONNECTION_LOST' });
      expect(await handle.run((c) => c.incr(key))).toBe(2);
    } finally {
      await shared.del(key);
    }
  });

  it("with isReady as the README says (status 'ready', not quitting) it is rebuilt at once", async () => {
    const key = `review:closed:${run}:own-ready`;
    try {
      const handle = defineClient({
        name: 'own-redis-ready',
        create: build,
        close: (c) => c.disconnect(),
        isReady: (c) => c.status === 'ready' && !(c as unknown as { manuallyClosing?: boolean }).manuallyClosing,
      });
      expect(await handle.run((c) => c.incr(key))).toBe(1);
      void handle.run((c) => c.quit());
      expect(await handle.run((c) => c.incr(key))).toBe(2);
    } finally {
      await shared.del(key);
    }
  });
});
