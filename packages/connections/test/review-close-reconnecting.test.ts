/**
 * Closing a `redis()` client while ioredis is between two reconnect attempts (status
 * `reconnecting`: the server went away, the retry timer runs). Before, `closeRedis` called
 * `disconnect()`, which stopped the timer but left the client `reconnecting` for good — its socket
 * was already closed, so no 'close' event came to end it — and a command queued offline meanwhile
 * never settled. Now the client ends (`end`, its 'end' event) and such a command is rejected.
 *
 * A redis-server this file starts and stops (SIGKILL).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { eventually } from '../../../test/support/wait.js';

const own = useOwnRedisServer({ afterEachTest: closeAll });

it('handle.close() of a client that is reconnecting ends it: status end, its queued command rejected', async () => {
  // A long retry delay holds the client in `reconnecting` (the profile's gives up within a second).
  const handle = redis({ url: own.url, name: `close-reconnecting-${randomUUID().slice(0, 6)}`, options: { retryStrategy: () => 60_000, enableOfflineQueue: true } });
  const client = await handle.get({ signal: AbortSignal.timeout(5_000) });
  const ended = new Promise<void>((resolve) => client.once('end', resolve));
  try {
    await own.server.stop();
    await eventually(() => client.status === 'reconnecting', 5_000, 10);
    const queued = client.get('k').then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await handle.close();
    // Before: 'reconnecting', and the GET never settled.
    expect(client.status).toBe('end');
    await ended;
    expect(await queued).toBe('Connection is closed.');
  } finally {
    await own.server.start();
  }
}, 20_000);
