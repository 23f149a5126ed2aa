/**
 * Review: a Redis source whose client could not send — ioredis with `enableOfflineQueue: false`
 * at a server that is down ("Stream isn't writeable…"), a client already closed ("Connection is
 * closed."), a command that timed out (`commandTimeout`) — failed with the message `redis key
 * app:config: Error`: ioredis throws a plain `Error` with no code, and the failure keeps only the
 * class name (never the message, which may carry values). The operator could not tell a dead
 * connection from anything else. The failure now says which kind of connection failure it was,
 * in the package's own words, from the shared classifier — still never the driver's message.
 * Shown on the real Redis (a private server, paused with SIGSTOP, for the timeout).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defineState, redisKey, StateError } from '../src/index.js';
import { freePort, startRedis } from '../../../test/support/servers.js';
import { unique } from './support.js';

async function failureOf(client: Redis, key: string): Promise<string> {
  const error = (await defineState({ sources: { config: redisKey({ client, key }) }, timeoutMs: 5_000 }).get().then(() => undefined, (e: unknown) => e)) as StateError;
  expect(error).toBeInstanceOf(StateError);
  expect(error.code).toBe('STATE_UNAVAILABLE');
  return error.failures[0]!.message;
}

describe('a Redis source whose connection failed says so', () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('offline queue off, server down: "connection closed or not writable"', async () => {
    const client = new Redis({ port: await freePort(), lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    client.on('error', () => undefined);
    clients.push(client);
    const key = unique('cw');
    expect(await failureOf(client, key)).toBe(`redis key ${key}: Error (Redis connection closed or not writable)`);
  });

  it('a client already closed: the same words', async () => {
    const client = new Redis(process.env.REDIS_URL!, { lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    await client.quit();
    const key = unique('cw');
    expect(await failureOf(client, key)).toBe(`redis key ${key}: Error (Redis connection closed or not writable)`);
  });

  it('a command timed out (server paused): "Redis command timed out"', async () => {
    const server = await startRedis();
    const client = new Redis({ port: server.port, lazyConnect: true, commandTimeout: 300, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    clients.push(client);
    try {
      await client.connect();
      server.freeze();
      const key = unique('cw');
      expect(await failureOf(client, key)).toBe(`redis key ${key}: Error (Redis command timed out)`);
    } finally {
      await server.dispose();
    }
  });
});
