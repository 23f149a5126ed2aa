/**
 * `close()` (or `closeAll()`) while a thaw check waits for its ping: the check stops — its ping,
 * cut off by the close, is no failed check, and it opens no new client — and the caller waiting
 * on it gets `CONNECTION_UNAVAILABLE` (closed by this package). Before, the ping failed when
 * close() quit its client, the check counted that as a failure and connected a new client after
 * close() had returned: one connection left open that nothing would close.
 *
 * A redis-server this file starts; `CLIENT PAUSE` holds the check's PING unanswered.
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
])('%s while a thaw check waits: the waiting acquire rejects as closed, no failed check, no connection left', async (_, close) => {
  let clock = 0;
  const name = `close-check-${randomUUID().slice(0, 6)}`;
  const handle = redis({ url: own.url, name, pingTimeoutMs: 3_000, idleThresholdMs: 1_000, options: { connectionName: name }, now: () => clock });
  await handle.get({ signal: AbortSignal.timeout(10_000) });
  expect(await connectionsNamed(name)).toBe(1);
  clock += 2_000;
  await own.admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
  const acquired = handle.acquire({ signal: AbortSignal.timeout(5_000) });
  acquired.catch(() => undefined);
  await sleep(100);
  await close(handle);
  await expect(acquired).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE', closedBy: 'connections' });
  // Past the pause: a client connected by the check would be listed by now.
  await sleep(2_000);
  expect(await connectionsNamed(name)).toBe(0);
  expect(handle.stats).toMatchObject({ connects: 1, pings: 1, pingFailures: 0, reconnects: 0 });
}, 30_000);
