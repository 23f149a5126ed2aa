/**
 * A function using `ctx.redis` while `close()` (or `closeAll()`, as on SIGTERM) closes its handle:
 * the command waits for a connect or a thaw check that the close stops. It must answer the typed
 * closed error — `CONNECTION_UNAVAILABLE` saying this package closed the client and nothing was
 * sent (503, retryable) — not a connect failure ("Could not connect") nor `CONNECTION_LOST`, and
 * its write must not be applied. src/lifecycle.ts `close()`; the `acquire()` side is in
 * review-close-during-connect.test.ts and review-close-during-thaw-check.test.ts.
 *
 * A caller that asks for a client while `close()` is under way (its QUIT not yet answered) is refused
 * the same way: before, it connected a new client that close() never closed — still open, and the
 * handle's, after close() (or SIGTERM's closeAll()) had resolved.
 *
 * A redis-server this file starts: frozen (SIGSTOP) to hold a connect or a QUIT, `CLIENT PAUSE` to hold a ping.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections, type ClientHandle } from '../src/index.js';
import { redis } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A function that INCRs `input.key` through ctx, on a handle whose idle clock the test moves. */
function app() {
  const clock = { now: 0 };
  const name = `ctx-close-${randomUUID().slice(0, 6)}`;
  const handle = redis({ url: own.url, name, connectTimeoutMs: 5_000, pingTimeoutMs: 3_000, now: () => clock.now, options: { connectionName: name } });
  const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (input: unknown, ctx) =>
    ctx.redis.incr((input as { key: string }).key),
  );
  const invoke = (key: string) =>
    main.invoke({ key }, { deadline: Date.now() + 10_000 }).then(
      (value) => ({ value }),
      (err: { code?: string; message?: string }) => ({ code: err.code, message: err.message }),
    );
  return { handle, clock, invoke, name };
}

/** The server's connections named `name` (the handle's clients'). */
async function connectionsNamed(name: string): Promise<number> {
  const list = (await own.admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(`name=${name} `)).length;
}

const closedByUs = { code: 'CONNECTION_UNAVAILABLE', message: expect.stringMatching(/closed by @steadyfn\/connections .*before this operation was sent/) };

it('while the first connect hangs: the INCR answers the typed closed error and is not applied', async () => {
  const { handle, invoke } = app();
  const key = `ctx-close:${randomUUID()}`;
  own.server.freeze();
  let outcome: Promise<unknown>;
  try {
    outcome = invoke(key);
    await sleep(200);
    const closed = handle.close();
    await sleep(50);
    own.server.thaw();
    await closed;
  } finally {
    own.server.thaw();
  }
  expect(await outcome).toEqual(closedByUs);
  expect(await own.admin.get(key)).toBeNull();
}, 20_000);

it('while the thaw check waits for its ping: the INCR answers the typed closed error and is not applied', async () => {
  const { handle, clock, invoke } = app();
  expect(await invoke(`ctx-close:{warm}:${randomUUID()}`)).toEqual({ value: 1 });
  const key = `ctx-close:${randomUUID()}`;
  clock.now += 60_000; // idle past the threshold: the next use is checked first
  await own.admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
  const outcome = invoke(key);
  await sleep(200);
  await handle.close();
  expect(await outcome).toEqual(closedByUs);
  await sleep(1_000); // past the pause: a command written meanwhile would have run by now
  expect(await own.admin.get(key)).toBeNull();
}, 20_000);

it.each([
  ['handle.close()', (handle: ClientHandle<unknown>) => handle.close()],
  ['closeAll() (SIGTERM)', () => closeAll()],
])('%s under way (its QUIT unanswered): a caller asking for the client then is refused with the typed closed error, and no client is left open', async (_, close) => {
  const { handle, invoke, name } = app();
  expect(await invoke(`ctx-close:{warm}:${randomUUID()}`)).toEqual({ value: 1 });
  const key = `ctx-close:${randomUUID()}`;
  own.server.freeze();
  let closed: Promise<void>;
  let outcome: Promise<unknown>;
  try {
    // The QUIT waits for the frozen server: close() is under way until it is answered (or 500 ms).
    closed = close(handle);
    await sleep(50);
    outcome = invoke(key);
    await sleep(100);
  } finally {
    own.server.thaw();
  }
  await closed;
  // Before: the caller connected a client of its own meanwhile and its INCR was applied ({ value: 1 }).
  expect(await outcome).toEqual(closedByUs);
  // Nothing of the handle's is left once close() resolved: no client, no connection.
  expect(handle.peek()).toBeUndefined();
  await sleep(200);
  expect(await connectionsNamed(name)).toBe(0);
  expect(await own.admin.get(key)).toBeNull();
  // The handle is usable again: the next use connects anew.
  expect(await invoke(`${key}:after`)).toEqual({ value: 1 });
}, 20_000);
