/**
 * `commandView` with a scripted client shaped like ioredis (commands on the prototype, listed
 * by `getBuiltinCommands`): which calls go through the handle, and which members come from
 * the current client. Against a real redis-server: packages/connections/test/redis.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineClient, type ClientHandle } from './handle.js';
import { closeAll } from './registry.js';
import { commandView } from './view.js';

function econnreset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

class FakeRedis {
  constructor(readonly id: number) {}

  status = 'ready';
  /** Calls each command received, by name, with their arguments. */
  readonly calls: Array<[string, unknown[]]> = [];
  /** How many of the next commands fail with ECONNRESET. */
  failNext = 0;

  getBuiltinCommands(): string[] {
    return ['get', 'set', 'info', 'multi'];
  }

  /** Like ioredis: a pipeline object to chain commands on, not a promise. */
  multi(): { client: number; queued: string[] } {
    this.calls.push(['multi', []]);
    return { client: this.id, queued: [] };
  }

  #answer(name: string, args: unknown[], value: string): Promise<string> {
    this.calls.push([name, args]);
    if (this.failNext > 0) {
      this.failNext--;
      this.status = 'end';
      return Promise.reject(econnreset());
    }
    return Promise.resolve(value);
  }

  get(key: string, callback?: (err: unknown, value?: string) => void): Promise<string> | undefined {
    if (callback) {
      this.calls.push(['get', [key, callback]]);
      callback(null, `cb:${this.id}`);
      return undefined;
    }
    return this.#answer('get', [key], `v:${this.id}`);
  }

  set(key: string, value: string): Promise<string> {
    return this.#answer('set', [key, value], 'OK');
  }

  info(): Promise<string> {
    return this.#answer('info', [], '');
  }

  /** Not a command: passed through, bound to the client it belongs to. */
  whoAmI(): number {
    return this.id;
  }
}

function setup() {
  const clients: FakeRedis[] = [];
  const handle = defineClient<FakeRedis>({
    name: 'fake-redis',
    create: () => {
      const client = new FakeRedis(clients.length + 1);
      clients.push(client);
      return client;
    },
    isReady: (c) => c.status === 'ready',
  });
  return { handle, clients };
}

afterEach(async () => {
  await closeAll();
});

describe('commandView', () => {
  it('sends commands through the handle: a read broken by a connection error is repeated once on a new client', async () => {
    const { handle, clients } = setup();
    const view = commandView(handle, await handle.get());
    clients[0]!.failNext = 1;
    await expect(view.get('k')).resolves.toBe('v:2');
    expect(clients.map((c) => c.calls)).toEqual([[['get', ['k']]], [['get', ['k']]]]);
    expect(handle.stats.retries).toBe(1);
  });

  it('a write is never repeated blindly: CONNECTION_LOST, sent once', async () => {
    const { handle, clients } = setup();
    const view = commandView(handle, await handle.get());
    clients[0]!.failNext = 1;
    await expect(view.set('k', 'v')).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    expect(clients.flatMap((c) => c.calls)).toEqual([['set', ['k', 'v']]]);
  });

  it('after a rebuild, commands, members and methods are the new client’s', async () => {
    const { handle, clients } = setup();
    const view = commandView(handle, await handle.get());
    clients[0]!.status = 'end';
    await expect(view.get('k')).resolves.toBe('v:2');
    expect(view.status).toBe('ready');
    expect(view.whoAmI()).toBe(2);
    clients[1]!.status = 'reconnecting';
    expect(view.status).toBe('reconnecting');
  });

  it('a call with a Node-style callback goes to the current client unchanged', async () => {
    const { handle, clients } = setup();
    const view = commandView(handle, await handle.get());
    const seen: unknown[] = [];
    const callback = (err: unknown, value?: string): void => void seen.push(err, value);
    expect(view.get('k', callback)).toBeUndefined();
    expect(seen).toEqual([null, 'cb:1']);
    expect(clients[0]!.calls).toEqual([['get', ['k', callback]]]);
  });

  it('multi() is the current client\'s own: a pipeline at once, not a promise of one', async () => {
    const { handle, clients } = setup();
    const view = commandView(handle, await handle.get());
    expect(view.multi()).toEqual({ client: 1, queued: [] });
    clients[0]!.status = 'end';
    await view.get('k');
    expect(view.multi()).toEqual({ client: 2, queued: [] });
  });

  it('over a handle of its own making (no internal run-with-arguments): commands go through its `run`, reads marked safe', async () => {
    const { handle, clients } = setup();
    const seen: Array<boolean | undefined> = [];
    // Only the public ClientHandle members, as a wrapper written by the user would have them.
    const wrapper: ClientHandle<FakeRedis> = {
      name: handle.name,
      get: (options) => handle.get(options),
      acquire: (options) => handle.acquire(options),
      read: (fn, options) => handle.read(fn, options),
      peek: () => handle.peek(),
      touch: () => handle.touch(),
      close: () => handle.close(),
      get stats() {
        return handle.stats;
      },
      run: (fn, options) => {
        seen.push(options?.safe);
        return handle.run(fn, options);
      },
    };
    const view = commandView(wrapper, await handle.get());
    clients[0]!.failNext = 1;
    await expect(view.get('k')).resolves.toBe('v:2');
    await expect(view.set('k', 'v')).resolves.toBe('OK');
    expect(seen).toEqual([true, undefined]);
    expect(clients.map((c) => c.calls)).toEqual([[['get', ['k']]], [['get', ['k']], ['set', ['k', 'v']]]]);
  });

  it('is still an instance of the client class, and each command is one function', async () => {
    const { handle } = setup();
    const view = commandView(handle, await handle.get());
    expect(view).toBeInstanceOf(FakeRedis);
    expect(view.get).toBe(view.get);
    expect(view.get).not.toBe(FakeRedis.prototype.get);
  });
});
