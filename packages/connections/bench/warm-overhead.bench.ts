/**
 * What the connection layer adds to a warm invocation, against a bare ioredis GET measured
 * in the same run, on a redis-server this bench starts (loopback, no persistence).
 * Target: no extra round trip inside the idle threshold — checked by counting the server's
 * PING calls — and a p50 close to the bare call (reported as a ratio).
 */
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { handler } from '@steadyfn/handler';
import { closeAll, connections, profileFor, redis } from '../src/index.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

test('warm invocation overhead of the connections plugin vs a bare client call', async ({ bench }) => {
  const port = await freePort();
  const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const url = `redis://127.0.0.1:${port}`;
    const bare = new Redis(url, { ...profileFor('aws').redis, lazyConnect: true });
    await bare.connect();
    await bare.set('k', 'v');

    const handle = redis({ url, provider: 'aws' });
    const withPlugin = handler({ use: [connections({ redis: handle }, { log: false, closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) =>
      ctx.redis.get('k'),
    );
    const withoutPlugin = handler({ logSink: () => undefined }, async () => bare.get('k'));
    await withPlugin.invoke(null);
    const pingsBefore = /cmdstat_ping:calls=(\d+)/.exec(await bare.info('commandstats'))?.[1] ?? '0';

    const results = await bench.compare(
      bench('bare ioredis GET', async () => {
        await bare.get('k');
      }),
      bench('handle.run(GET)', async () => {
        await handle.run((c) => c.get('k'));
      }),
      bench('handler, no plugin, bare GET', async () => {
        await withoutPlugin.invoke(null);
      }),
      bench('handler + connections plugin, ctx.redis.get', async () => {
        await withPlugin.invoke(null);
      }),
    );

    const pingsAfter = /cmdstat_ping:calls=(\d+)/.exec(await bare.info('commandstats'))?.[1] ?? '0';
    type Name = 'bare ioredis GET' | 'handle.run(GET)' | 'handler, no plugin, bare GET' | 'handler + connections plugin, ctx.redis.get';
    const p50 = (name: Name): number => ((results.get(name) as unknown as { latency: { p50?: number } }).latency.p50 ?? Number.NaN) * 1000;
    const base = p50('bare ioredis GET');
    const handlerBase = p50('handler, no plugin, bare GET');
    for (const name of ['handle.run(GET)', 'handler, no plugin, bare GET', 'handler + connections plugin, ctx.redis.get'] as const) {
      const v = p50(name);
      console.log(`[bench] ${name}: p50 ${v.toFixed(1)} µs, ${(v / base).toFixed(2)}× the bare GET (${base.toFixed(1)} µs)`);
    }
    const plugin = p50('handler + connections plugin, ctx.redis.get');
    console.log(`[bench] plugin vs the same handler without it: ${(plugin / handlerBase).toFixed(2)}×, +${(plugin - handlerBase).toFixed(1)} µs`);
    console.log(`[bench] PINGs sent during warm invocations: ${Number(pingsAfter) - Number(pingsBefore)} (target 0)`);
    // The one hard target: inside the idle threshold the layer adds no round trip.
    expect(Number(pingsAfter) - Number(pingsBefore)).toBe(0);
    expect(handle.stats.connects).toBe(1);
    bare.disconnect();
  } finally {
    await closeAll();
    server.kill('SIGKILL');
  }
});
