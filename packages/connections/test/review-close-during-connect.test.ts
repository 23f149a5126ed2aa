/**
 * `close()` (or `closeAll()`) while a plain connect is under way (no client yet, a caller waiting
 * for it). Before, close() waited for that connect, then closed the new client — which the waiting
 * caller had already been handed: its first command failed with ioredis' bare "Connection is
 * closed.". Now the connect is stopped at once: the waiter gets `CONNECTION_UNAVAILABLE` (closed by
 * this package, retryable), close() does not wait for the connect, and no connection is left.
 *
 * A redis-server this file starts and freezes (SIGSTOP) so the connect's handshake hangs.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function connectionsNamed(name: string): Promise<number> {
  const list = (await own.admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(`name=${name} `)).length;
}

it.each([
  ['handle.close()', (handle: { close(): Promise<void> }) => handle.close()],
  ['closeAll()', () => closeAll()],
])('%s while a connect is under way: the waiting get rejects as closed, nothing handed out, no connection left', async (_, close) => {
  const name = `close-connect-${randomUUID().slice(0, 6)}`;
  const handle = redis({ url: own.url, name, connectTimeoutMs: 5_000, options: { connectionName: name } });
  own.server.freeze();
  const got = handle.get({ signal: AbortSignal.timeout(10_000) });
  got.catch(() => undefined);
  let closed: Promise<void>;
  try {
    await sleep(200);
    closed = close(handle);
    // The server answers again: before, the connect then completed and its client went to the waiter.
    await sleep(100);
  } finally {
    own.server.thaw();
  }
  await closed;
  const outcome = await got.then(
    (client) => ({ handedOut: client.status }),
    (err: unknown) => err,
  );
  expect(outcome).toMatchObject({ code: 'CONNECTION_UNAVAILABLE', closedBy: 'connections' });
  await sleep(500);
  expect(await connectionsNamed(name)).toBe(0);
  // The handle is usable again: the next use connects anew.
  expect(await (await handle.get({ signal: AbortSignal.timeout(5_000) })).ping()).toBe('PONG');
}, 30_000);
