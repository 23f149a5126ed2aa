/**
 * `redis()`: a single-node ioredis client with the serverless profile, a PING thaw check,
 * and `ctx.redis` commands that repeat reads once after a connection error.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { Provider } from '@steadyfn/handler';
import { defineClient, type ClientHandle } from '../handle.js';
import { profileFor } from '../profiles.js';
import { commandView } from '../view.js';
import { handleOptions, parseRedisClientsInfo, type HandleOptions } from './options.js';

export interface RedisClientOptions extends HandleOptions {
  /** `redis://…` or `rediss://…`; default `process.env.REDIS_URL`, else ioredis' own default (localhost:6379). */
  url?: string;
  /** ioredis options; each one overrides the platform profile. */
  options?: RedisOptions;
  /** Profile to use instead of the detected platform's. */
  provider?: Provider;
}

export interface RedisHandle extends ClientHandle<Redis> {
  /** What the plugin puts on ctx: the client, with reads repeated once after a connection error. */
  contextValue(client: Redis): Redis;
}

/** Closes politely when the connection is up (QUIT), at once otherwise. */
export async function closeRedis(client: { status: string; quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  if (client.status === 'ready') {
    await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500).unref?.())]);
  }
  client.disconnect();
}

/**
 * Connects a new ioredis client (single node or Cluster), or stops it and rethrows: a failed
 * client must not live on in the background with its reconnect timer.
 */
export async function connectRedis<T extends { on(event: 'error', listener: () => void): unknown; connect(): Promise<unknown>; disconnect(): void }>(client: T): Promise<T> {
  // Errors reach callers through their commands; without a listener ioredis prints them.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return client;
}

export function redis(options: RedisClientOptions = {}): RedisHandle {
  const url = options.url ?? process.env.REDIS_URL;
  const settings: RedisOptions = { ...profileFor(options.provider).redis, ...options.options, lazyConnect: true };
  let view: Redis | undefined;
  const handle = defineClient<Redis>({
    ...handleOptions(options, 'redis'),
    async create() {
      // Loaded on first use: the package's other clients must work without ioredis installed.
      const { Redis } = await import('ioredis');
      return connectRedis(url ? new Redis(url, settings) : new Redis(settings));
    },
    ping: (client) => client.ping(),
    isReady: (client) => client.status === 'ready',
    close: closeRedis,
    readBudget: async (client) => parseRedisClientsInfo(await client.info('clients')),
  });
  return Object.assign(handle, {
    contextValue: (client: Redis) => (view ??= commandView(handle, client)),
  });
}
