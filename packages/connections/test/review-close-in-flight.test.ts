/**
 * A write already written when `close()` (or `closeAll()`, SIGTERM) quits its client is never
 * claimed unsent. The close writes QUIT behind it on the same connection and, after 500 ms
 * without an answer, calls ioredis' `disconnect()`, which only half-closes the socket
 * (`stream.end()`): the server still answers what it read, in order, the write before the QUIT.
 * Only when the connection then closes with the write unanswered (its reply lost) does ioredis
 * reject it, with one bare "Connection is closed." for everything written on that connection
 * (its close handler's `flushQueue`).
 *
 * - `redis()`: a bare "Connection is closed." never proves a command unsent (`wasNotSent`); and
 *   a server that answers late still answers: the write gets its reply.
 * - `redisCluster()` counts a bare "Connection is closed." as unsent (clusterNotReadyUnsent: a
 *   node connection's not-yet-written commands get it), so a written write must not get it: the
 *   node's flush is split (cluster-replies.ts `splitFlush`) — the written INCR (the QUIT behind
 *   it, so not "only QUITs") gets `ReplyLostError`: CONNECTION_LOST on ctx, not repeated.
 *
 * The shared Cluster through a proxy whose replies are `muted` (the INCR is applied, its reply
 * and the QUIT's never come; the node closes after the QUIT); a redis-server this file starts
 * and freezes (SIGSTOP: the INCR and the QUIT wait in its socket until it thaws).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { connections, type ClientHandle } from '../src/index.js';
import { redis, redisCluster, ReplyLostError } from '../src/redis.js';
import { clusterNotReadyUnsent } from '../src/clients/cluster-replies.js';
import { rejectionOf, useClusterProxies } from './support/cluster-proxy.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const net = useClusterProxies();
const own = useOwnRedisServer();

/** A function that INCRs `input.key` through ctx with `handle` (plugged in as `store`). */
function app<T>(handle: ClientHandle<T> & { contextValue(client: T): unknown }) {
  const main = handler({ use: [connections({ store: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (input: unknown, ctx) =>
    (ctx.store as { incr(key: string): Promise<number> }).incr((input as { key: string }).key),
  );
  return (key: string) =>
    main.invoke({ key }, { deadline: Date.now() + 20_000 }).then(
      (value) => ({ value }),
      (err: { code?: string }) => ({ code: err.code }),
    );
}

/** Waits until `read()` gives `want`, at most `ms`. */
async function until(read: () => Promise<unknown>, want: unknown, ms = 3_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if ((await read()) === want) return;
}

describe('close() while a written write awaits its reply', () => {
  it('redisCluster(): the INCR (applied, its reply lost) is rejected with ReplyLostError, which proves nothing unsent', async () => {
    const handle = redisCluster({ name: `close-in-flight-${randomUUID().slice(0, 6)}`, nodes: net.nodes, options: { natMap: net.natMap } });
    const cluster = await handle.get();
    const key = `close-in-flight:${randomUUID()}`;
    // Its node connection ready first, then its replies held.
    await cluster.get(key);
    (await net.proxyOf(key)).muted = true;
    const written = rejectionOf(cluster.incr(key));
    await until(() => net.direct.get(key), '1');
    // QUIT written behind the INCR; the node answers it and closes, the replies never arrive.
    await handle.close();
    const err = await written;
    expect(err).toBeInstanceOf(ReplyLostError);
    expect(clusterNotReadyUnsent(err)).toBe(false);
    expect(await net.direct.get(key)).toBe('1');
  }, 30_000);

  it('redisCluster() through ctx: CONNECTION_LOST, not repeated, applied once', async () => {
    const handle = redisCluster({ name: `close-in-flight-${randomUUID().slice(0, 6)}`, nodes: net.nodes, options: { natMap: net.natMap } });
    const invoke = app(handle);
    // One slot for both keys: the warm-up leaves the INCR's node connection ready.
    const tag = `{close-in-flight:${randomUUID()}}`;
    expect(await invoke(`${tag}:warm`)).toEqual({ value: 1 });
    const key = `${tag}:n`;
    (await net.proxyOf(key)).muted = true;
    const outcome = invoke(key);
    await until(() => net.direct.get(key), '1');
    await handle.close();
    expect(await outcome).toEqual({ code: 'CONNECTION_LOST' });
    expect(handle.stats.retries).toBe(0);
    expect(await net.direct.get(key)).toBe('1');
  }, 30_000);

  it('redis(): the INCR written to a frozen server is not rejected by the close at all — the server answers it when it thaws, before the QUIT', async () => {
    const handle = redis({ url: own.url, name: `close-in-flight-${randomUUID().slice(0, 6)}` });
    const invoke = app(handle);
    expect(await invoke(`close-in-flight:{warm}:${randomUUID()}`)).toEqual({ value: 1 });
    const key = `close-in-flight:${randomUUID()}`;
    own.server.freeze();
    let outcome: Promise<unknown>;
    try {
      outcome = invoke(key);
      await sleep(100);
      // QUIT unanswered for 500 ms, then disconnect(): a half-close, the socket still reads.
      await handle.close();
    } finally {
      own.server.thaw();
    }
    expect(await outcome).toEqual({ value: 1 });
    expect(handle.stats.retries).toBe(0);
    expect(await own.admin.get(key)).toBe('1');
  }, 30_000);
});
