import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigurationError, handler, type Context } from '@steadyfn/handler';
import { defineClient } from './handle.js';
import { connections, connectionsRecord } from './plugin.js';
import { closeAll } from './registry.js';

interface Db {
  query(): string;
}

function db(name: string, fail = { connect: false }) {
  return defineClient<Db>({
    name,
    async create() {
      if (fail.connect) throw new Error('connect ECONNREFUSED');
      return { query: () => `${name}-result` };
    },
    ping: async () => 'PONG',
  });
}

function logged(lines: string[]): Array<Record<string, any>> {
  return lines.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.msg === 'connections');
}

const level = process.env.STEADYFN_LOG_LEVEL;
afterEach(async () => {
  process.env.STEADYFN_LOG_LEVEL = level;
  await closeAll();
});

describe('connections plugin', () => {
  it('puts typed clients on ctx and logs how each was obtained', async () => {
    process.env.STEADYFN_LOG_LEVEL = 'info';
    const lines: string[] = [];
    const main = handler({ use: [connections({ a: db('a'), b: db('b') }, { closeOnSigterm: false, logReused: true })], logSink: (l) => lines.push(l) }, async (_i, ctx) => {
      expectTypeOf(ctx.a).toEqualTypeOf<Db>();
      return [ctx.a.query(), ctx.b.query()];
    });
    await expect(main.invoke(null)).resolves.toEqual(['a-result', 'b-result']);
    await main.invoke(null);
    const records = logged(lines);
    expect(records).toHaveLength(2);
    expect(records[0]!.clients).toEqual({
      a: { state: 'new', reconnects: 0, retries: 0 },
      b: { state: 'new', reconnects: 0, retries: 0 },
    });
    expect(records[1]!.clients.a).toMatchObject({ state: 'reused', reconnects: 0, retries: 0 });
    expect(typeof records[1]!.clients.a.idleMs).toBe('number');
  });

  it('a client that cannot connect fails the invocation with CONNECTION_UNAVAILABLE (retryable), and is still logged', async () => {
    process.env.STEADYFN_LOG_LEVEL = 'info';
    const lines: string[] = [];
    const main = handler({ use: [connections({ a: db('a', { connect: true }) }, { closeOnSigterm: false })], logSink: (l) => lines.push(l) }, () => 'unreached');
    await expect(main.invoke(null)).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE', retryable: true });
    expect(lines.join('\n')).not.toContain('ECONNREFUSED 127');
  });

  it('log: false writes no record', async () => {
    process.env.STEADYFN_LOG_LEVEL = 'debug';
    const lines: string[] = [];
    const main = handler({ use: [connections({ a: db('a') }, { log: false, closeOnSigterm: false })], logSink: (l) => lines.push(l) }, () => 1);
    await main.invoke(null);
    expect(logged(lines)).toHaveLength(0);
  });

  it('refuses two clients with one name (their records would mix)', () => {
    expect(() => connections({ a: db('same'), b: db('same') })).toThrow(ConfigurationError);
    expect(() => connections({ a: db('same'), b: db('same') })).toThrow(/two clients are named "same"/);
  });

  it('checks its options up front', () => {
    expect(() => connections({ a: db('a') }, { log: 'warn' as never })).toThrow(/connections\(\): option "log" must be one of "info", "debug", false; got "warn"/);
    expect(() => connections({ a: 'redis://x' as never })).toThrow(/option "handles.a" must be a client handle/);
    expect(() => connections({ a: db('a') }, { logReused: 'yes' as never })).toThrow(ConfigurationError);
  });

  it('by default a warm invocation writes no line; connects, checks and rebuilds do', async () => {
    process.env.STEADYFN_LOG_LEVEL = 'info';
    let clock = 0;
    const handle = defineClient<Db>({ name: 'a', create: async () => ({ query: () => 'r' }), ping: async () => 'PONG', idleThresholdMs: 1_000, now: () => clock });
    const lines: string[] = [];
    const main = handler({ use: [connections({ a: handle }, { closeOnSigterm: false })], logSink: (l) => lines.push(l) }, async (_i, ctx) => ctx.a.query());
    await main.invoke(null);
    for (let i = 0; i < 5; i++) await main.invoke(null);
    clock += 5_000;
    await main.invoke(null);
    expect(logged(lines).map((r) => r.clients.a.state)).toEqual(['new', 'revalidated']);
  });

  it('connectionsRecord(ctx) gives the record on demand, with rebuilds and retries made during the invocation', async () => {
    const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    let fail = 1;
    const handle = defineClient<Db>({ name: 'a', create: async () => ({ query: () => 'r' }) });
    let during: unknown;
    const main = handler({ use: [connections({ a: handle }, { closeOnSigterm: false, log: false })], logSink: () => undefined }, async (_i, ctx) => {
      const value = await handle.read(() => {
        if (fail-- > 0) throw reset();
        return 'ok';
      });
      during = connectionsRecord(ctx);
      return value;
    });
    await expect(main.invoke(null)).resolves.toBe('ok');
    // The first use made a client ('new'); the retry rebuilt it (no ping: reconnected).
    expect(during).toEqual({ a: { state: 'new', idleMs: undefined, reconnects: 1, retries: 1 } });
    expect(connectionsRecord({})).toBeUndefined();
  });

  it('a warm extend answers without a promise', async () => {
    const plugin = connections({ a: db('a') }, { closeOnSigterm: false });
    await handler({ use: [plugin], logSink: () => undefined }, () => 1).invoke(null);
    const ctx = {} as Context;
    const added = plugin.extend!(ctx, undefined);
    expect(added).not.toBeInstanceOf(Promise);
    expect((added as { a: Db }).a.query()).toBe('a-result');
  });
});

describe('connections plugin, concurrent invocations', () => {
  it('every invocation that joined a shared thaw check gets its own record', async () => {
    process.env.STEADYFN_LOG_LEVEL = 'info';
    let clock = 0;
    let pings = 0;
    const handle = defineClient<Db>({
      name: 'a',
      create: async () => ({ query: () => 'r' }),
      ping: async () => {
        pings++;
      },
      idleThresholdMs: 1_000,
      now: () => clock,
    });
    const lines: string[] = [];
    const main = handler({ use: [connections({ a: handle }, { closeOnSigterm: false, logReused: true })], logSink: (l) => lines.push(l) }, async (_i, ctx) => ctx.a.query());
    await main.invoke(null);
    lines.length = 0;
    clock += 5_000;
    await Promise.all(Array.from({ length: 5 }, () => main.invoke(null)));
    expect(pings).toBe(1);
    const states = logged(lines).map((r) => r.clients.a.state);
    expect(states).toEqual(Array(5).fill('revalidated'));
  });
});
