/**
 * `run(fn)` with a function that sends more than one command: an error that proves the FAILING
 * command unsent ("Cluster isn't ready" under `redisCluster()`, "Stream isn't writeable",
 * ECONNREFUSED) says nothing of the commands `fn` sent before it. Repeating the whole `fn` then
 * applies its earlier writes twice. Found in review: the INCR below was applied twice.
 *
 * The Cluster becomes not ready between the two commands with `disconnect(true)` (ioredis' own
 * reconnect, what it does itself after a failed ready check); the shared Cluster is not stopped.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { requireService } from '../../../test/services/env.js';

const nodes = (): { host: string; port: number }[] =>
  (process.env.REDIS_CLUSTER_NODES ?? '').split(',').map((hp) => ({ host: hp.split(':')[0]!, port: Number(hp.split(':')[1]) }));
let admin: Cluster;

beforeAll(async () => {
  await requireService('redis-cluster');
  admin = new Cluster(nodes(), { lazyConnect: true });
  await admin.connect();
});
afterEach(async () => {
  await closeAll();
});
afterAll(() => admin?.disconnect());

describe('run(fn) sending several commands', () => {
  it("an INCR followed by a command refused 'Cluster isn't ready' is not repeated: CONNECTION_LOST, applied once", async () => {
    const key = `review:several:${randomUUID()}`;
    try {
      const handle = redisCluster({ nodes: nodes() });
      let calls = 0;
      const err = await handle
        .run(async (c) => {
          calls++;
          await c.incr(key);
          c.disconnect(true);
          return c.get(key); // never sent: the Cluster is reconnecting
        })
        .catch((e: unknown) => e as { code?: string });
      expect(err).toMatchObject({ code: 'CONNECTION_LOST' });
      expect(calls).toBe(1);
      expect(await admin.get(key)).toBe('1');
    } finally {
      await admin.del(key);
    }
  });

  it('a single command refused before it was sent is still repeated when the caller says fn sends one operation', async () => {
    const key = `review:several:${randomUUID()}`;
    try {
      const handle = redisCluster({ nodes: nodes() });
      let calls = 0;
      const n = await handle.run(
        (c) => {
          calls++;
          if (calls === 1) c.disconnect(true);
          return c.incr(key);
        },
        { single: true },
      );
      expect(n).toBe(1);
      expect(calls).toBe(2);
      expect(await admin.get(key)).toBe('1');
    } finally {
      await admin.del(key);
    }
  });
});
