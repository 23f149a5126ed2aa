/**
 * A thaw after a short idle (30 s: past `idleThresholdMs`, within MongoDB's `maxIdleTimeMS` of
 * 60 s) whose Redis connection the server dropped meanwhile: ioredis already knows (`status` is
 * `reconnecting`), so the client is rebuilt at once, without a ping. Checked here that this is no
 * dearer than the path it replaces — letting ioredis reconnect its one socket: the rebuild opens
 * exactly one connection (what ioredis' own reconnect would open, with the same handshake), sends
 * no PING (it could only fail: with `enableOfflineQueue: false` a command on a client that is not
 * `ready` is refused unsent), and the replaced client does not reconnect in the background as
 * well (its retry timer is stopped). It also does not wait for ioredis' first retry delay (50 ms).
 *
 * MongoDB pings first (the driver does not know its pooled connection is dead until it writes on
 * it). When that ping fails with a network error the client is rebuilt, not pinged again: the
 * driver has cleared its pool and marked the server `Unknown`, so a second ping waits for its
 * monitor, whose connection a freeze left as idle as the pool's. Measured behind a proxy that
 * leaves every connection half-open (a server restart the frozen client did not see), three
 * rounds on loopback: the rebuild answered in 32–107 ms, a second ping on the same client in
 * 1 001–1 019 ms (the monitor's failed check, then its 500 ms pacing, twice), and both opened two
 * new connections (a monitor and a pooled one). So the rebuild is not the dearer path.
 *
 * A redis-server this file starts, CLIENT KILL from an admin connection; the shared FerretDB
 * behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { MongoClient } from 'mongodb';
import { mongo } from '../src/mongodb.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { eventually } from '../../../test/support/wait.js';
import { startProxy } from './support/proxy.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function connectionsReceived(): Promise<number> {
  return Number(/^total_connections_received:(\d+)/m.exec(await own.admin.info('stats'))?.[1]);
}

async function pingCalls(): Promise<number> {
  return Number(/^cmdstat_ping:calls=(\d+)/m.exec(await own.admin.info('commandstats'))?.[1] ?? 0);
}

it('a connection the server dropped during a 30 s idle: one new connection, no PING, the old client not reconnecting too', async () => {
  let clock = 0;
  const name = `thaw-killed-${randomUUID().slice(0, 6)}`;
  const handle = redis({ url: own.url, name, idleThresholdMs: 10_000, options: { connectionName: name }, now: () => clock });
  const old = await handle.get({ signal: AbortSignal.timeout(10_000) });
  const list = (await own.admin.client('LIST')) as string;
  const id = list.split('\n').find((line) => line.includes(`name=${name}`))?.match(/(?:^|\s)id=(\d+)/)?.[1];
  expect(id).toBeDefined();
  await own.admin.client('KILL', 'ID', id!);
  await eventually(() => old.status !== 'ready', 5_000, 10);
  clock += 30_000;
  const received = await connectionsReceived();
  const pings = await pingCalls();
  const lease = await handle.acquire({ signal: AbortSignal.timeout(5_000) });
  expect(lease.state).toBe('reconnected');
  expect(lease.client === old).toBe(false);
  expect(await lease.client.ping()).toBe('PONG');
  // Longer than ioredis' retry delays (50, 100, 200, 400 ms): the old client would have reconnected by now.
  await sleep(1_000);
  expect((await connectionsReceived()) - received).toBe(1);
  expect((await pingCalls()) - pings).toBe(1); // the test's own PING above, none from the check
  expect(handle.stats).toMatchObject({ pings: 0, pingFailures: 0, reconnects: 1, connects: 2 });
}, 30_000);

it('mongo(): a pooled connection dead since a 30 s idle: the failed ping rebuilds the client with two new connections, as many as a second ping on it opens', async () => {
  const proxy = await startProxy(Number(new URL(process.env.MONGODB_URI!).port));
  try {
    let clock = 0;
    const handle = mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/`, db: 'steadyfn_thaw_rebuild', idleThresholdMs: 10_000, now: () => clock });
    await (await handle.get({ signal: AbortSignal.timeout(10_000) })).db.command({ ping: 1 });
    proxy.halfOpenAll();
    clock += 30_000;
    let accepted = proxy.accepted;
    const lease = await handle.acquire({ signal: AbortSignal.timeout(10_000) });
    await lease.client.db.command({ ping: 1 });
    expect(lease.state).toBe('reconnected');
    expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, reconnects: 1 });
    const rebuilt = proxy.accepted - accepted;
    await handle.close();

    // The path not taken: the same driver settings, a second ping on the client whose ping failed.
    const client = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/`, { maxIdleTimeMS: 60_000, serverMonitoringMode: 'poll', serverSelectionTimeoutMS: 5_000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      proxy.halfOpenAll();
      accepted = proxy.accepted;
      await expect(client.db('admin').command({ ping: 1 })).rejects.toMatchObject({ name: 'MongoNetworkError' });
      await client.db('admin').command({ ping: 1 });
      expect(rebuilt).toBe(proxy.accepted - accepted);
    } finally {
      await client.close();
    }
  } finally {
    await proxy.close();
  }
}, 30_000);
