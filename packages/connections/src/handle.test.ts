/**
 * The handle's own logic with a scripted in-memory client (the real servers are in
 * packages/connections/test/): what is cached, what is shared, what is retried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, TerminalError, createLogger, handler } from '@steadyfn/handler';
import { closeAll } from './registry.js';
import { defineClient, type ClientSpec } from './handle.js';

interface FakeClient {
  id: number;
  ready: boolean;
  closed: boolean;
}

function econnreset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

function fake(overrides: Partial<ClientSpec<FakeClient>> = {}) {
  const made: FakeClient[] = [];
  let pings = 0;
  let failPing = false;
  const spec: ClientSpec<FakeClient> = {
    name: 'fake',
    async create() {
      await Promise.resolve();
      const client = { id: made.length + 1, ready: true, closed: false };
      made.push(client);
      return client;
    },
    async ping() {
      pings++;
      if (failPing) throw econnreset();
    },
    isReady: (c) => c.ready,
    close: (c) => {
      c.closed = true;
    },
    ...overrides,
  };
  return {
    spec,
    made,
    get pings() {
      return pings;
    },
    failPings() {
      failPing = true;
    },
  };
}

afterEach(async () => {
  await closeAll();
});

describe('defineClient', () => {
  it('concurrent first uses share one create', async () => {
    const f = fake();
    const handle = defineClient(f.spec);
    const clients = await Promise.all(Array.from({ length: 20 }, () => handle.get()));
    expect(f.made).toHaveLength(1);
    expect(new Set(clients).size).toBe(1);
    const leases = await Promise.all([handle.acquire(), handle.acquire()]);
    expect(leases.map((l) => l.state)).toEqual(['reused', 'reused']);
  });

  it('a failed create is not cached and every waiter gets the same retryable error', async () => {
    let attempt = 0;
    const f = fake();
    const handle = defineClient({
      ...f.spec,
      async create(context) {
        attempt++;
        if (attempt === 1) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return f.spec.create(context);
      },
    });
    const results = await Promise.allSettled([handle.get(), handle.get(), handle.get()]);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'CONNECTION_UNAVAILABLE')).toBe(true);
    expect(attempt).toBe(1);
    const lease = await handle.acquire();
    expect(lease.state).toBe('new');
    expect(attempt).toBe(2);
    expect(handle.stats).toMatchObject({ connects: 1, connectFailures: 1 });
  });

  it('a create that hangs fails after connectTimeoutMs, and the late client is closed', async () => {
    let release: (c: FakeClient) => void = () => undefined;
    const late: FakeClient = { id: 99, ready: true, closed: false };
    const handle = defineClient<FakeClient>({
      ...fake().spec,
      connectTimeoutMs: 20,
      create: () => new Promise<FakeClient>((resolve) => (release = resolve)),
    });
    await expect(handle.get()).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    release(late);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(late.closed).toBe(true);
  });

  it('pings only after the idle threshold, once for concurrent callers', async () => {
    let clock = 0;
    const f = fake();
    const handle = defineClient({ ...f.spec, idleThresholdMs: 1_000, now: () => clock });
    await handle.get();
    clock += 1_000;
    expect((await handle.acquire()).state).toBe('reused');
    expect(f.pings).toBe(0);
    clock += 1_001;
    const leases = await Promise.all(Array.from({ length: 5 }, () => handle.acquire()));
    expect(f.pings).toBe(1);
    expect(leases.every((l) => l.state === 'revalidated' && l.idleMs === 1_001)).toBe(true);
    expect((await handle.acquire()).state).toBe('reused');
  });

  it('a failed ping rebuilds the client and closes the old one', async () => {
    let clock = 0;
    const f = fake();
    const handle = defineClient({ ...f.spec, idleThresholdMs: 10, now: () => clock });
    const old = await handle.get();
    f.failPings();
    clock += 100;
    const lease = await handle.acquire();
    expect(lease.state).toBe('reconnected');
    expect(lease.client).not.toBe(old);
    expect(old.closed).toBe(true);
    expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, reconnects: 1, connects: 2 });
  });

  it('a ping that never answers counts as failed after pingTimeoutMs', async () => {
    let clock = 0;
    const f = fake();
    const handle = defineClient({ ...f.spec, idleThresholdMs: 10, pingTimeoutMs: 20, now: () => clock, ping: () => new Promise(() => undefined) });
    await handle.get();
    clock += 100;
    expect((await handle.acquire()).state).toBe('reconnected');
  });

  it('a client that knows its connection is gone is rebuilt without a ping', async () => {
    const f = fake();
    const handle = defineClient(f.spec);
    const first = await handle.get();
    first.ready = false;
    expect((await handle.acquire()).state).toBe('reconnected');
    expect(f.pings).toBe(0);
    expect(first.closed).toBe(true);
  });

  describe('run', () => {
    it('passes other errors through unchanged and does not retry', async () => {
      const handle = defineClient(fake().spec);
      const boom = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
      let calls = 0;
      await expect(
        handle.run(() => {
          calls++;
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(calls).toBe(1);
    });

    it('repeats a safe operation once on a connection error, on a checked client', async () => {
      const f = fake();
      const handle = defineClient(f.spec);
      const seen: number[] = [];
      const result = await handle.read((c) => {
        seen.push(c.id);
        if (seen.length === 1) {
          c.ready = false;
          throw econnreset();
        }
        return 'ok';
      });
      expect(result).toBe('ok');
      expect(seen).toEqual([1, 2]);
      expect(handle.stats.retries).toBe(1);
    });

    it('does not repeat an unmarked operation: CONNECTION_LOST, and the next use checks the client', async () => {
      const f = fake();
      const handle = defineClient(f.spec);
      let calls = 0;
      await expect(
        handle.run(() => {
          calls++;
          throw econnreset();
        }),
      ).rejects.toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
      expect(calls).toBe(1);
      expect(f.pings).toBe(0);
      expect((await handle.acquire()).state).toBe('revalidated');
      expect(f.pings).toBe(1);
    });

    it('repeats even a write when the error proves it was never sent', async () => {
      const handle = defineClient(fake().spec);
      let calls = 0;
      const result = await handle.run(
        () => {
          calls++;
          if (calls === 1) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
          return 'written';
        },
        { single: true },
      );
      expect(result).toBe('written');
      expect(calls).toBe(2);
    });

    it('repeats at most once', async () => {
      const handle = defineClient(fake().spec);
      let calls = 0;
      await expect(
        handle.read(() => {
          calls++;
          throw econnreset();
        }),
      ).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect(calls).toBe(2);
    });

    it('a client without a ping is rebuilt after a connection error', async () => {
      const f = fake({ ping: undefined, isReady: undefined });
      const handle = defineClient(f.spec);
      const ids: number[] = [];
      await handle.read((c) => {
        ids.push(c.id);
        if (ids.length === 1) throw econnreset();
      });
      expect(ids).toEqual([1, 2]);
    });
  });

  it('close() closes the client; the next use creates a new one', async () => {
    const f = fake();
    const handle = defineClient(f.spec);
    const first = await handle.get();
    await handle.close();
    expect(first.closed).toBe(true);
    expect(handle.peek()).toBeUndefined();
    expect((await handle.acquire()).state).toBe('new');
  });

  describe('budget', () => {
    function capture() {
      const lines: Array<{ level: string; msg: string; used?: number }> = [];
      return { lines, logger: createLogger({}, (l) => lines.push(JSON.parse(l)), 'debug') };
    }

    it('warns near the limit and records the reading', async () => {
      const { lines, logger } = capture();
      const handle = defineClient({ ...fake().spec, logger, budget: { warnRatio: 0.8 }, readBudget: async () => ({ used: 9, limit: 10 }) });
      await handle.get();
      expect(handle.stats.budget).toEqual({ used: 9, limit: 10, ratio: 0.9 });
      expect(lines.find((l) => l.level === 'warn')).toMatchObject({ msg: 'connection budget nearly used', used: 9 });
    });

    it('sheds at shedRatio: closes the new client, fails retryable with Retry-After, caches nothing', async () => {
      const f = fake();
      const { logger } = capture();
      let used = 10;
      const handle = defineClient({ ...f.spec, logger, budget: { shedRatio: 0.95, backoffMs: 2_000 }, readBudget: async () => ({ used, limit: 10 }) });
      await expect(handle.get()).rejects.toMatchObject({ code: 'CONNECTION_BUDGET_EXHAUSTED', retryable: true, headers: { 'retry-after': '2' } });
      await new Promise((r) => setImmediate(r));
      expect(f.made[0]!.closed).toBe(true);
      expect(handle.peek()).toBeUndefined();
      used = 3;
      const next = await handle.get();
      expect(next).toBe(f.made[1]);
      expect(next.closed).toBe(false);
    });

    it('a reading that fails or is missing gives no verdict', async () => {
      const { lines, logger } = capture();
      const handle = defineClient({
        ...fake().spec,
        logger,
        budget: { shedRatio: 0 },
        readBudget: async () => {
          throw new Error('NOPERM this user has no permissions to run the info command');
        },
      });
      await expect(handle.get()).resolves.toBeDefined();
      expect(handle.stats.budget).toBeUndefined();
      expect(lines.some((l) => l.level === 'warn')).toBe(false);
    });

    it('is off unless asked for', async () => {
      let reads = 0;
      const handle = defineClient({ ...fake().spec, readBudget: async () => (reads++, { used: 10, limit: 10 }) });
      await handle.get();
      expect(reads).toBe(0);
    });
  });
});

describe('defineClient under a deadline (signals)', () => {
  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    return { lines, logger: createLogger({}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>), 'debug') };
  }

  it('a connect every waiter gave up on is aborted: create sees the signal, a late client is closed, nothing is cached', async () => {
    const late: FakeClient = { id: 7, ready: true, closed: false };
    let createSignal: AbortSignal | undefined;
    let release: (c: FakeClient) => void = () => undefined;
    const handle = defineClient<FakeClient>({
      ...fake().spec,
      create: ({ signal }) => {
        createSignal = signal;
        return new Promise<FakeClient>((resolve) => (release = resolve));
      },
    });
    const caller = new AbortController();
    const pending = handle.get({ signal: caller.signal });
    const reason = new Error('deadline');
    caller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(createSignal?.aborted).toBe(true);
    release(late);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(late.closed).toBe(true);
    expect(handle.peek()).toBeUndefined();
    expect(handle.stats).toMatchObject({ connects: 0, connectFailures: 1 });
  });

  it('a ConfigurationError from create is passed through (terminal) and logged with its message', async () => {
    const { lines, logger } = capture();
    const handle = defineClient<FakeClient>({
      ...fake().spec,
      logger,
      create: () => {
        throw new ConfigurationError('fake(): the "fake-driver" package is not installed', { field: 'driver', expected: 'installed', code: 'CONNECTION_DRIVER_MISSING' });
      },
    });
    await expect(handle.get()).rejects.toMatchObject({ code: 'CONNECTION_DRIVER_MISSING', retryable: false });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'connections: client cannot be created', client: 'fake', reason: 'fake(): the "fake-driver" package is not installed' }),
    );
  });

  it("the user's own terminal error from create stays as it is; any other error becomes CONNECTION_UNAVAILABLE", async () => {
    const terminal = new TerminalError('NO_TENANT', 'unknown tenant');
    const handle = defineClient<FakeClient>({ ...fake().spec, create: () => Promise.reject(terminal) });
    await expect(handle.get()).rejects.toBe(terminal);
    const other = defineClient<FakeClient>({ ...fake().spec, name: 'other', create: () => Promise.reject(new Error('password authentication failed for user "x"')) });
    await expect(other.get()).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE', retryable: true, message: 'Could not connect the other client' });
  });

  it('a command cut off by the signal rejects with its reason and leaves the client suspect', async () => {
    const f = fake();
    const handle = defineClient(f.spec);
    await handle.get();
    const caller = new AbortController();
    const pending = handle.run(() => new Promise(() => undefined), { signal: caller.signal });
    const reason = new Error('deadline');
    caller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect((await handle.acquire()).state).toBe('revalidated');
    expect(f.pings).toBe(1);
  });

  it('one abort rejects every command still waiting on the signal, on every handle, and leaves their clients suspect', async () => {
    const first = fake();
    const second = fake({ name: 'second' });
    const a = defineClient(first.spec);
    const b = defineClient(second.spec);
    await Promise.all([a.get(), b.get()]);
    const caller = new AbortController();
    const hang = (): Promise<never> => new Promise(() => undefined);
    const pending = [a.run(hang, { signal: caller.signal }), a.run(hang, { signal: caller.signal }), b.run(hang, { signal: caller.signal })];
    const reason = new Error('deadline');
    caller.abort(reason);
    for (const p of pending) await expect(p).rejects.toBe(reason);
    expect((await a.acquire()).state).toBe('revalidated');
    expect((await b.acquire()).state).toBe('revalidated');
  });

  it('an abort rejects only the commands waiting on that signal: another signal\'s command on the same client goes on', async () => {
    const handle = defineClient(fake().spec);
    await handle.get();
    const short = new AbortController();
    const long = new AbortController();
    let answer: (v: string) => void = () => undefined;
    const cut = handle.run(() => new Promise<string>(() => undefined), { signal: short.signal });
    const kept = handle.run(() => new Promise<string>((resolve) => (answer = resolve)), { signal: long.signal });
    const reason = new Error('deadline');
    short.abort(reason);
    await expect(cut).rejects.toBe(reason);
    answer('still here');
    await expect(kept).resolves.toBe('still here');
    // A later abort of the other signal, with nothing left waiting on it, changes nothing.
    long.abort(new Error('later'));
    await expect(kept).resolves.toBe('still here');
  });

  it("inside an invocation, a command races ctx.signal's abort without the function reading ctx.signal: DEADLINE_EXCEEDED, the same reason ctx.signal has when read later", async () => {
    const handle = defineClient(fake().spec);
    await handle.get();
    let caught: unknown;
    let signal: AbortSignal | undefined;
    const main = handler({ deadlineMarginMs: 50, logSink: () => undefined }, async (_input, ctx) => {
      try {
        await handle.run(() => new Promise(() => undefined));
      } catch (err) {
        caught = err;
        signal = ctx.signal;
        throw err;
      }
    });
    // 1 s: at 300 ms a pause of 250 ms before the function started (a loaded machine) answered
    // DEADLINE_EXCEEDED without running it, and nothing was caught.
    const answer = await main.invoke({}, { deadline: Date.now() + 1_000 }).catch((e: unknown) => e);
    expect(answer).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(caught).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect([signal?.aborted, signal?.reason]).toEqual([true, caught]);
    // Cut off by the deadline, the client is suspect: the next use checks it.
    expect((await handle.acquire()).state).toBe('revalidated');
  });

  it('commands that settled before the abort keep their outcome and leave the client trusted', async () => {
    const f = fake();
    const handle = defineClient(f.spec);
    await handle.get();
    const caller = new AbortController();
    const answers: Array<(v: string) => void> = [];
    const answer = (): Promise<string> => new Promise<string>((resolve) => answers.push(resolve));
    const ok = handle.run(answer, { signal: caller.signal });
    const late = handle.run(answer, { signal: caller.signal });
    answers[0]!('first');
    await expect(ok).resolves.toBe('first');
    // Settled out of order: the one sent later answers before the abort too.
    const third = handle.run(answer, { signal: caller.signal });
    answers[2]!('third');
    await expect(third).resolves.toBe('third');
    answers[1]!('second');
    await expect(late).resolves.toBe('second');
    caller.abort(new Error('deadline'));
    expect((await handle.acquire()).state).toBe('reused');
    expect(f.pings).toBe(0);
  });

  it('an answer after the abort changes nothing: the command stays rejected with the reason', async () => {
    const handle = defineClient(fake().spec);
    await handle.get();
    const caller = new AbortController();
    let answer: (v: string) => void = () => undefined;
    const pending = handle.run(() => new Promise<string>((resolve) => (answer = resolve)), { signal: caller.signal });
    const reason = new Error('deadline');
    caller.abort(reason);
    answer('too late');
    await expect(pending).rejects.toBe(reason);
  });

  it('under a signal, a read broken by a connection error is repeated once; an unmarked write fails with CONNECTION_LOST', async () => {
    const f = fake();
    const handle = defineClient(f.spec);
    const { signal } = new AbortController();
    let calls = 0;
    const read = await handle.read(
      async (c) => {
        calls++;
        if (calls === 1) {
          c.ready = false;
          throw econnreset();
        }
        return c.id;
      },
      { signal },
    );
    expect(read).toBe(2);
    await expect(handle.run(() => Promise.reject(econnreset()), { signal })).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('a command is not sent once the signal has aborted', async () => {
    const handle = defineClient(fake().spec);
    await handle.get();
    let calls = 0;
    const reason = new Error('late');
    await expect(handle.run(() => calls++, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(calls).toBe(0);
  });

  it('a thaw check cut off by the signal gives no verdict: no failure counted, checked again next time', async () => {
    let clock = 0;
    let answer: (() => void) | undefined;
    const f = fake();
    const handle = defineClient({ ...f.spec, idleThresholdMs: 10, now: () => clock, ping: () => new Promise<void>((resolve) => (answer = resolve)) });
    await handle.get();
    clock += 100;
    const caller = new AbortController();
    const pending = handle.acquire({ signal: caller.signal });
    caller.abort(new Error('deadline'));
    await expect(pending).rejects.toThrow('deadline');
    expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 0, reconnects: 0 });
    const next = handle.acquire();
    // The second ping is sent on a later tick; answer that one.
    await new Promise((r) => setImmediate(r));
    answer!();
    expect((await next).state).toBe('revalidated');
    expect(handle.stats.pings).toBe(2);
  });
});

describe('defineClient options are checked up front', () => {
  it.each([
    [{ name: '' }, 'name'],
    [{ pingTimeoutMs: 0 }, 'pingTimeoutMs'],
    [{ connectTimeoutMs: 1.5 }, 'connectTimeoutMs'],
    [{ idleThresholdMs: -1 }, 'idleThresholdMs'],
    [{ budget: { warnRatio: 2 } }, 'budget.warnRatio'],
    [{ budget: 'on' }, 'budget'],
    [{ ping: 'PING' }, 'ping'],
    [{ logger: console.log }, 'logger'],
  ])('%j is a ConfigurationError on %s', (bad, field) => {
    const spec = { ...fake().spec, ...bad } as unknown as ClientSpec<FakeClient>;
    let thrown: unknown;
    try {
      defineClient(spec);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field, retryable: false });
    expect((thrown as Error).message).toMatch(new RegExp(`^defineClient\\(\\): option "${field.replace('.', '\\.')}" must be`));
  });

  it('idleThresholdMs 0 is allowed: ping before every use', async () => {
    const f = fake();
    const handle = defineClient({ ...f.spec, idleThresholdMs: 0, now: (() => { let t = 0; return () => (t += 1); })() });
    await handle.get();
    await handle.get();
    expect(f.pings).toBe(1);
  });
});
