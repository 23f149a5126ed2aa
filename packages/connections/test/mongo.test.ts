/**
 * The MongoDB handle against FerretDB (MongoDB wire protocol): the shared service, and a
 * FerretDB process this file owns so it can restart it. Connections are counted by a
 * loopback proxy in front of the server, pings by the driver's command monitoring.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CommandStartedEvent } from 'mongodb';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo, type MongoHandle } from '../src/mongodb.js';
import { requireService } from '../../../test/services/env.js';
import { ferretdbAvailable, startFerretDB, type OwnServer } from '../../../test/support/servers.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const lines: string[] = [];
const logLevel = process.env.STEADYFN_LOG_LEVEL;
let own: (OwnServer & { uri: string }) | undefined;
let proxy: FaultProxy;

beforeAll(async () => {
  process.env.STEADYFN_LOG_LEVEL = 'info';
  if (!ferretdbAvailable()) throw new Error('FerretDB binary missing: run `bash test/services/services.sh start` (it builds .services/bin/ferretdb-local)');
  own = await startFerretDB();
  proxy = await startProxy(own.port);
});

afterEach(async () => {
  await closeAll();
  lines.length = 0;
});

afterAll(async () => {
  process.env.STEADYFN_LOG_LEVEL = logLevel;
  await proxy?.close();
  await own?.dispose();
});

const viaProxy = (): string => `mongodb://127.0.0.1:${proxy.port}/`;

function app(handle: MongoHandle) {
  return handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (input, ctx) => {
    const items = ctx.mongo.db.collection<{ _id: string; n: number }>('items');
    await items.updateOne({ _id: String(input) }, { $set: { n: 1 } }, { upsert: true });
    const doc = await items.findOne({ _id: String(input) });
    return doc?.n;
  });
}

function lastRecord(): Record<string, unknown> {
  const entry = lines.map((l) => JSON.parse(l) as { msg: string; clients?: Record<string, unknown> }).filter((l) => l.msg === 'connections').at(-1);
  return entry?.clients?.mongo as Record<string, unknown>;
}

/** Counts `ping` commands the handle's current client sends from now on. */
function countPings(handle: MongoHandle): { readonly count: number } {
  const counter = { count: 0 };
  handle.peek()!.client.on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'ping') counter.count++;
  });
  return counter;
}

describe('mongo handle (FerretDB)', () => {
  it('connects once for 100 warm invocations: no new socket after the first', async () => {
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn' });
    const main = app(handle);
    await expect(main.invoke('w0')).resolves.toBe(1);
    const sockets = proxy.accepted;
    for (let i = 1; i < 100; i++) await expect(main.invoke(`w${i}`)).resolves.toBe(1);
    expect(handle.stats.connects).toBe(1);
    expect(proxy.accepted).toBe(sockets);
    expect(lastRecord()).toMatchObject({ state: 'reused', reconnects: 0 });
  });

  it('20 concurrent cold invocations share one client', async () => {
    const before = proxy.accepted;
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn', options: { maxPoolSize: 1 } });
    const main = app(handle);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => main.invoke(`c${i}`)));
    expect(results).toEqual(Array(20).fill(1));
    expect(handle.stats.connects).toBe(1);
    // One client: its monitor socket and its one pooled socket. Twenty clients would open 40.
    expect(proxy.accepted - before).toBeLessThanOrEqual(2);
  });

  it('a failed first connect is not cached: the next invocation connects', async () => {
    const server = await startFerretDB();
    await server.stop();
    try {
      const handle = mongo({ uri: server.uri, db: 'steadyfn_conn', options: { serverSelectionTimeoutMS: 300 } });
      const main = app(handle);
      await expect(main.invoke('f1')).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE', retryable: true });
      await server.start();
      await expect(main.invoke('f2')).resolves.toBe(1);
      expect(handle.stats).toMatchObject({ connects: 1, connectFailures: 1 });
    } finally {
      await closeAll();
      await server.dispose();
    }
  });

  it('FerretDB restarted between invocations: the next invocation succeeds', async () => {
    const handle = mongo({ uri: own!.uri, db: 'steadyfn_conn' });
    const main = app(handle);
    await expect(main.invoke('r1')).resolves.toBe(1);
    await own!.stop();
    await own!.start();
    await expect(main.invoke('r2')).resolves.toBe(1);
    await expect(main.invoke('r3')).resolves.toBe(1);
  });

  it('idle past the threshold: exactly one ping before the next command, none within it', async () => {
    let clock = 0;
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn', idleThresholdMs: 10_000, now: () => clock, options: { monitorCommands: true } });
    const main = app(handle);
    await main.invoke('i1');
    const pings = countPings(handle);
    clock += 9_000;
    await main.invoke('i2');
    expect(pings.count).toBe(0);
    clock += 10_001;
    await main.invoke('i3');
    expect(pings.count).toBe(1);
    expect(lastRecord()).toMatchObject({ state: 'revalidated', idleMs: 10_001 });
  });

  it('a silently dead connection after a thaw: the ping times out, the client is rebuilt, no error', async () => {
    let clock = 0;
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn', idleThresholdMs: 1_000, pingTimeoutMs: 300, now: () => clock });
    const main = app(handle);
    await main.invoke('b1');
    proxy.blackholeAll();
    clock += 60_000;
    await expect(main.invoke('b2')).resolves.toBe(1);
    expect(lastRecord()).toMatchObject({ state: 'reconnected', reconnects: 1 });
    expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2 });
  });

  it('a reset connection: a read through the handle succeeds on a repaired client', async () => {
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn' });
    await app(handle).invoke('x');
    let attempts = 0;
    const n = await handle.read(async ({ db }) => {
      if (attempts++ === 0) proxy.resetAll();
      return (await db.collection<{ _id: string; n: number }>('items').findOne({ _id: 'x' }))?.n;
    });
    expect(n).toBe(1);
    // Either the driver's own retryable read or the handle's one retry repaired it; never more.
    expect(attempts).toBeLessThanOrEqual(2);
  });

  it('the shared MongoDB service: a warm client is reused', async () => {
    await requireService('mongodb');
    const handle = mongo({ db: 'steadyfn_conn', name: 'shared' });
    const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) =>
      ctx.mongo.db.command({ ping: 1 }),
    );
    for (let i = 0; i < 5; i++) await expect(main.invoke(null)).resolves.toMatchObject({ ok: 1 });
    expect(handle.stats.connects).toBe(1);
  });

  it('budget: FerretDB reports no connection counts, so the check gives no verdict and does not block', async () => {
    const handle = mongo({ uri: own!.uri, db: 'steadyfn_conn', budget: { warnRatio: 0, shedRatio: 0 } });
    await expect(handle.get()).resolves.toBeDefined();
    expect(handle.stats.budget).toBeUndefined();
  });

  it.skipIf(!process.env.MONGODB_REPLSET_URI)(
    'budget: a real MongoDB reports serverStatus().connections (needs MONGODB_REPLSET_URI; FerretDB does not report them)',
    async () => {
      const handle = mongo({ uri: process.env.MONGODB_REPLSET_URI, name: 'real', budget: { warnRatio: 0 } });
      await handle.get();
      expect(handle.stats.budget?.limit).toBeGreaterThan(0);
    },
  );
});
