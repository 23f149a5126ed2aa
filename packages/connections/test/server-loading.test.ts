/**
 * A call that meets a redis-server still loading its data after a restart (it accepts
 * connections and answers INFO with `loading:1`). ioredis' ready check then waits
 * * `loading_eta_seconds` (1–5 s in these runs, capped at 10 s) before asking again, so a
 * call that connected during the load went on waiting up to a second after the server was
 * serving (the lease storm's 2 s timeouts after a restart of an AOF server). The profile's
 * `maxLoadingRetryTime` makes `redis()` ask again every 100 ms.
 *
 * The load is made long by the server's `key-load-delay` (µs per key, a debug setting of
 * redis-server's own test suite) and answered while it runs
 * (`loading-process-events-interval-bytes`). What can be asserted without a clock: the call
 * that connected during the load succeeds once the server has loaded (not an error, not a
 * wait for its own deadline), the server was loading when it connected (it asked again, per
 * `INFO commandstats`, reset by the restart), and the client it got asks again at most every
 * 100 ms (the driver's default would be `loading_eta_seconds`, up to its 10 s cap). How
 * often each asks over one load is printed, for the driver default too; it depends on the
 * eta the server reports (the driver asks again at once when it reports 0 s).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redis } from '../src/redis.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';

let server: (OwnServer & { url: string }) | undefined;
const closers: Array<() => void> = [];

afterAll(async () => {
  for (const close of closers) close();
  await server?.dispose();
});

/** Restarts the server (SIGKILL, then the AOF loads), runs `during` while it loads, returns the INFO commands it answered since. */
async function infosDuringLoad(during: () => Promise<void>): Promise<number> {
  await server!.stop();
  await server!.start();
  await during();
  const admin = new Redis(server!.url, { lazyConnect: true, enableReadyCheck: false });
  try {
    await admin.connect();
    const stats = await admin.info('commandstats');
    return Number(/cmdstat_info:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  } finally {
    admin.disconnect();
  }
}

describe('redis() against a redis-server loading its AOF after a restart', () => {
  it('asks again far more often than the driver default, and the call succeeds once the server has loaded', async () => {
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--key-load-delay', '100', '--loading-process-events-interval-bytes', '1024']);
    const admin = new Redis(server.url, { lazyConnect: true });
    closers.push(() => admin.disconnect());
    await admin.connect();
    const prefix = `loading:${randomUUID().slice(0, 8)}:`;
    // 10 000 keys × 100 µs: a load of a second or more.
    for (let i = 0; i < 10; i++) await admin.eval(`for i=1,1000 do redis.call('set', KEYS[1] .. ARGV[1] .. ':' .. i, 'v') end`, 1, prefix, String(i));
    admin.disconnect();
    await server.stop();
    await server.start();

    const key = `${prefix}written`;
    let written: string | undefined;
    let retryMs: number | undefined;
    const asked = await infosDuringLoad(async () => {
      const cache = redis({ url: server!.url });
      try {
        written = await cache.run((c) => c.set(key, 'after the load'), { signal: AbortSignal.timeout(30_000) });
        retryMs = cache.peek()?.options.maxLoadingRetryTime;
      } finally {
        await cache.close();
      }
    });
    // The driver's defaults over the next load, for the printout only.
    let loadedKeys: string | null = null;
    const askedByDefault = await infosDuringLoad(async () => {
      const reference = new Redis(server!.url, { lazyConnect: true, retryStrategy: () => null });
      reference.on('error', () => undefined);
      try {
        await reference.connect();
        loadedKeys = await reference.get(`${prefix}9:1000`);
      } finally {
        reference.disconnect();
      }
    });
    console.log(`server loading: redis() asked ${asked} times over one load, the driver default ${askedByDefault} over the next`);
    expect(written, 'the call that connected during the load succeeded').toBe('OK');
    expect(loadedKeys, 'the server loaded every key').toBe('v');
    expect(asked, 'the server was loading when redis() connected: it asked again').toBeGreaterThan(1);
    expect(retryMs, 'redis() asks a loading server again at most every 100 ms').toBe(100);
  }, 40_000);
});
