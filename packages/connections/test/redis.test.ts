/**
 * The Redis handle against a real redis-server this file owns (so it can count the
 * server's connections and commands, kill its clients and restart it) and the shared one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger, handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redis, type RedisHandle } from '../src/redis.js';
import { requireService } from '../../../test/services/env.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

let server: OwnServer & { url: string };
let admin: Redis;
const lines: string[] = [];
// The per-invocation record is logged at info; the test setup silences everything below error.
const logLevel = process.env.STEADYFN_LOG_LEVEL;

beforeAll(async () => {
  process.env.STEADYFN_LOG_LEVEL = 'info';
  server = await startRedis();
  admin = new Redis(server.url, { lazyConnect: true, retryStrategy: (times) => Math.min(times * 50, 200) });
  admin.on('error', () => undefined);
  await admin.connect();
});

afterEach(async () => {
  await closeAll();
  lines.length = 0;
});

afterAll(async () => {
  process.env.STEADYFN_LOG_LEVEL = logLevel;
  admin?.disconnect();
  await server?.dispose();
});

async function serverStat(section: string, field: string): Promise<number> {
  const info = await admin.info(section);
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

async function pingCalls(): Promise<number> {
  const info = await admin.info('commandstats');
  const match = /^cmdstat_ping:calls=(\d+)/m.exec(info);
  return match ? Number(match[1]) : 0;
}

/** A handler whose function reads and writes through ctx.redis. */
function app(handle: RedisHandle) {
  return handler({ use: [connections({ redis: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (input, ctx) => {
    const key = `steadyfn:conn:${String(input)}`;
    await ctx.redis.set(key, 'v');
    return ctx.redis.get(key);
  });
}

function lastRecord(): Record<string, unknown> {
  const entry = lines.map((l) => JSON.parse(l) as { msg: string; clients?: Record<string, unknown> }).filter((l) => l.msg === 'connections').at(-1);
  return entry?.clients?.redis as Record<string, unknown>;
}

describe('redis handle', () => {
  it('connects once for 100 warm invocations', async () => {
    const before = await serverStat('stats', 'total_connections_received');
    const handle = redis({ url: server.url });
    const main = app(handle);
    for (let i = 0; i < 100; i++) await expect(main.invoke(`warm${i}`)).resolves.toBe('v');
    expect(handle.stats.connects).toBe(1);
    expect((await serverStat('stats', 'total_connections_received')) - before).toBe(1);
    expect(lastRecord()).toMatchObject({ state: 'reused', reconnects: 0, retries: 0 });
  });

  it('20 concurrent cold invocations share one connect', async () => {
    const before = await serverStat('stats', 'total_connections_received');
    const handle = redis({ url: server.url });
    const main = app(handle);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => main.invoke(`cold${i}`)));
    expect(results).toEqual(Array(20).fill('v'));
    expect(handle.stats.connects).toBe(1);
    expect((await serverStat('stats', 'total_connections_received')) - before).toBe(1);
  });

  it('a failed first connect is not cached: the next invocation connects', async () => {
    const down = await startRedis();
    await down.stop();
    try {
      const handle = redis({ url: down.url });
      const main = app(handle);
      await expect(main.invoke('first')).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE', retryable: true });
      expect(handle.stats.connectFailures).toBe(1);
      await down.start();
      await expect(main.invoke('second')).resolves.toBe('v');
      expect(handle.stats.connects).toBe(1);
    } finally {
      await closeAll();
      await down.dispose();
    }
  });

  it('CLIENT KILL between invocations: the next invocation succeeds', async () => {
    const handle = redis({ url: server.url });
    const main = app(handle);
    await main.invoke('k1');
    const id = await handle.peek()!.client('ID');
    // Kill, then invoke at once: the client may not have noticed yet, as after a thaw.
    await admin.client('KILL', 'ID', String(id));
    await expect(main.invoke('k2')).resolves.toBe('v');
    await expect(main.invoke('k3')).resolves.toBe('v');
    expect(handle.stats.connects).toBe(2);
  });

  it('redis-server restarted between invocations: the next invocation succeeds', async () => {
    const own = await startRedis();
    try {
      const handle = redis({ url: own.url });
      const main = app(handle);
      await expect(main.invoke('r1')).resolves.toBe('v');
      await own.stop();
      await own.start();
      // Quick restart: ioredis may have reconnected by itself already ('reused') or not.
      await expect(main.invoke('r2')).resolves.toBe('v');
      expect(['reused', 'reconnected']).toContain(lastRecord().state);

      // Long outage: ioredis gives up reconnecting (bounded retryStrategy); the handle rebuilds.
      await own.stop();
      for (let i = 0; i < 100 && handle.peek()?.status !== 'end'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(handle.peek()?.status).toBe('end');
      await own.start();
      await expect(main.invoke('r3')).resolves.toBe('v');
      expect(lastRecord()).toMatchObject({ state: 'reconnected', reconnects: 1 });
    } finally {
      await closeAll();
      await own.dispose();
    }
  });

  it('idle past the threshold: exactly one PING before the next command, none within it', async () => {
    let clock = 1_000_000;
    const handle = redis({ url: server.url, idleThresholdMs: 10_000, now: () => clock });
    const main = app(handle);
    await main.invoke('i1');
    let pings = await pingCalls();
    clock += 5_000;
    await main.invoke('i2');
    expect(await pingCalls()).toBe(pings);
    expect(lastRecord()).toMatchObject({ state: 'reused', idleMs: 5_000 });

    pings = await pingCalls();
    clock += 10_001;
    await main.invoke('i3');
    expect((await pingCalls()) - pings).toBe(1);
    expect(lastRecord()).toMatchObject({ state: 'revalidated', idleMs: 10_001 });
    expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 0, connects: 1 });
  });

  it('concurrent invocations after a thaw share one PING', async () => {
    let clock = 0;
    const handle = redis({ url: server.url, idleThresholdMs: 1_000, now: () => clock });
    const main = app(handle);
    await main.invoke('t0');
    const pings = await pingCalls();
    clock += 60_000;
    await Promise.all(Array.from({ length: 10 }, (_, i) => main.invoke(`t${i + 1}`)));
    expect((await pingCalls()) - pings).toBe(1);
  });

  describe('through a proxy that breaks connections', () => {
    let proxy: FaultProxy;
    beforeAll(async () => {
      proxy = await startProxy(server.port);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('a silently dead connection after a thaw: the ping times out, the client is rebuilt, no error', async () => {
      let clock = 0;
      const handle = redis({ url: `redis://127.0.0.1:${proxy.port}`, idleThresholdMs: 1_000, pingTimeoutMs: 200, now: () => clock });
      const main = app(handle);
      await main.invoke('b1');
      proxy.blackholeAll();
      clock += 30_000;
      await expect(main.invoke('b2')).resolves.toBe('v');
      expect(lastRecord()).toMatchObject({ state: 'reconnected', reconnects: 1 });
      expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2 });
    });

    it('a reset connection: a read is repeated once, a write is not', async () => {
      const handle = redis({ url: `redis://127.0.0.1:${proxy.port}` });
      const key = 'steadyfn:conn:counter';
      await admin.set(key, '0');
      const reads = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false, logReused: true })], logSink: (l) => lines.push(l) }, async (_input, ctx) => {
        // Break the connection right before the command, as a freeze would.
        proxy.resetAll();
        return ctx.redis.get(key);
      });
      await expect(reads.invoke(null)).resolves.toBe('0');
      expect(lastRecord()).toMatchObject({ retries: 1 });

      const writes = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false, logReused: true })], logSink: (l) => lines.push(l) }, async (_input, ctx) => {
        proxy.resetAll();
        return ctx.redis.incr(key);
      });
      await expect(writes.invoke(null)).rejects.toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
      // Never applied twice: at most the one attempt reached the server.
      expect(Number(await admin.get(key))).toBeLessThanOrEqual(1);
      // The client was repaired for the next invocation.
      await expect(reads.invoke(null)).resolves.toMatch(/^[01]$/);
    });

    it('an operation marked safe is repeated; an unmarked one fails with CONNECTION_LOST', async () => {
      const handle = redis({ url: `redis://127.0.0.1:${proxy.port}`, name: 'redis-safe' });
      await handle.get();
      const key = 'steadyfn:conn:safe';
      let attempts = 0;
      await expect(
        handle.run(
          async (c) => {
            if (attempts++ === 0) proxy.resetAll();
            return c.set(key, 'fixed');
          },
          { safe: true },
        ),
      ).resolves.toBe('OK');
      expect(attempts).toBe(2);
      expect(handle.stats.retries).toBe(1);
      await expect(
        handle.run(async (c) => {
          proxy.resetAll();
          return c.set(key, 'other');
        }),
      ).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    });
  });

  it('applies the platform profile, and every value can be overridden', async () => {
    const defaults = redis({ url: server.url, name: 'profiled', provider: 'aws' });
    expect((await defaults.get()).options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
    const custom = redis({ url: server.url, name: 'custom', options: { enableOfflineQueue: true, maxRetriesPerRequest: 3 } });
    expect((await custom.get()).options).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: 3, autoResendUnfulfilledCommands: false });
  });

  describe('connection budget (INFO clients against maxclients)', () => {
    let small: OwnServer & { url: string };
    const others: Redis[] = [];
    beforeAll(async () => {
      small = await startRedis(['--maxclients', '10']);
      // Eight other instances already hold connections.
      for (let i = 0; i < 8; i++) {
        const other = new Redis(small.url);
        others.push(other);
        await other.ping();
      }
    });
    afterAll(async () => {
      for (const other of others) other.disconnect();
      await small?.dispose();
    });

    it('warns when the server is close to maxclients', async () => {
      const warnings: Array<Record<string, unknown>> = [];
      const logger = createLogger({}, (line) => warnings.push(JSON.parse(line) as Record<string, unknown>), 'warn');
      const handle = redis({ url: small.url, name: 'budgeted', budget: { warnRatio: 0.8 }, logger });
      await expect(handle.get()).resolves.toBeDefined();
      expect(handle.stats.budget).toEqual({ used: 9, limit: 10, ratio: 0.9 });
      expect(warnings).toEqual([expect.objectContaining({ level: 'warn', msg: 'connection budget nearly used', used: 9, limit: 10 })]);
    });

    it('sheds at shedRatio: the new connection is closed and the error is retryable', async () => {
      const logger = createLogger({}, () => undefined, 'warn');
      const handle = redis({ url: small.url, name: 'shed', budget: { shedRatio: 0.9, backoffMs: 3_000 }, logger });
      await expect(handle.get()).rejects.toMatchObject({ code: 'CONNECTION_BUDGET_EXHAUSTED', retryable: true, headers: { 'retry-after': '3' } });
      expect(handle.peek()).toBeUndefined();
      // The connection it opened to read the budget is given back.
      for (let i = 0; i < 50 && (await others[0]!.info('clients')).includes('connected_clients:9'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await others[0]!.info('clients')).toContain('connected_clients:8');
    });
  });

  it('ctx.redis.multi() is the client\'s own transaction: commands chained on it, sent by exec()', async () => {
    const handle = redis({ url: server.url, name: 'multi' });
    const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) =>
      ctx.redis.multi().set('steadyfn:conn:multi', 'm').get('steadyfn:conn:multi').exec(),
    );
    await expect(main.invoke(null)).resolves.toEqual([
      [null, 'OK'],
      [null, 'm'],
    ]);
  });

  it('the shared Redis service: a warm client is reused', async () => {
    await requireService('redis');
    const handle = redis({ name: 'shared' });
    const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) => ctx.redis.ping());
    for (let i = 0; i < 5; i++) await expect(main.invoke(null)).resolves.toBe('PONG');
    expect(handle.stats.connects).toBe(1);
  });
});
