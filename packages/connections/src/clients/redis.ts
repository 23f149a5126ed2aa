/**
 * `redis()`: a single-node ioredis client with the serverless profile, a PING thaw check,
 * and `ctx.redis` commands that repeat reads once after a connection error.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { Provider } from '@steadyfn/handler';
import { makeHandle } from '../handle.js';
import { profileFor } from '../profiles.js';
import type { ClientHandle } from '../spec.js';
import { ConfigurationError, errorName, keysOf } from '@steadyfn/handler/internal';
import { commandView } from '../view.js';
import { failDroppedReplies } from './redis-replies.js';
import { authRefused } from './auth-refused.js';
import { endReconnecting } from './redis-end.js';
import { blockedForMs, noteBlockingWrites, stuckAtCutOff } from './redis-queue.js';
import { driverLoader, useDriver } from './load.js';
import { checkRedisDatabase, checkUrl, factoryOptions, HANDLE_KEYS, handleOptions, parseRedisClientsInfo, type HandleOptions } from './options.js';

/** Options of `redis()`. */
export interface RedisClientOptions extends HandleOptions {
  /**
   * `redis://…` or `rediss://…` (TLS), or a Unix socket path.
   *
   * With neither this, `REDIS_URL` nor an address in `options` (`host`, `port`, `path`,
   * `sentinels`), the first use fails with a terminal `ConfigurationError`: ioredis would
   * quietly try 127.0.0.1:6379, which in a deployed function is a retryable connection error
   * that queues redeliver until their dead-letter queue (the same rule as `mongo()`).
   * @default process.env.REDIS_URL (read at first connect)
   */
  url?: string | undefined;
  /** ioredis options; each one overrides the platform profile (see `profileFor`). `lazyConnect` is always on. */
  options?: RedisOptions | undefined;
  /**
   * Profile to use instead of the detected platform's.
   * @default detectPlatform()
   */
  provider?: Provider | undefined;
}

/** A handle on an ioredis client. */
export interface RedisHandle extends ClientHandle<Redis> {
  /** What the plugin puts on ctx: the client, whose read-only commands are repeated once after a connection error. */
  contextValue(client: Redis): Redis;
}

const REDIS_SCHEMES = ['redis://', 'rediss://'];

/** ioredis, loaded once for `redis()` and `redisCluster()`. */
export const loadIoredis = driverLoader(() => import('ioredis'));

/**
 * Whether `quit()` or `disconnect()` was called on the client (by the function too): ioredis
 * keeps `status` at `'ready'` until the socket has closed, a moment later, and a command sent
 * in between fails with `Connection is closed.`
 */
export function closingRedis(client: object): boolean {
  return (client as { manuallyClosing?: unknown }).manuallyClosing === true;
}

/**
 * Whether the client's socket can still be written: ioredis keeps `status` at `'ready'` until the
 * socket's `close`, but once the server's FIN has been read (a server restarted or a connection
 * killed while the instance was frozen) Node ends the socket's writable side at once, and every
 * command sent until `close` fails with `Stream isn't writeable…` (no offline queue). A client
 * without a `stream` (not connected yet) says nothing here.
 */
export function redisWritable(client: object): boolean {
  const stream = (client as { stream?: { writable?: unknown; destroyed?: unknown } | null }).stream;
  return stream === undefined || stream === null || (stream.writable !== false && stream.destroyed !== true);
}

/** At most this long for a QUIT, ours or the function's own, before the sockets are dropped. */
const QUIT_WAIT_MS = 500;

/**
 * Closes politely when the connection is up (QUIT, at most 500 ms), at once otherwise. A client
 * the function is already closing (its own `quit()`, e.g. a Cluster whose node connections still
 * hold commands of a concurrent invocation) is given the same 500 ms to end by itself first:
 * `disconnect()` would drop the commands its QUIT lets the server answer.
 */
export async function closeRedis(client: { status: string; quit(): Promise<unknown>; disconnect(): void; once(event: 'end', listener: () => void): unknown }): Promise<void> {
  const closing = closingRedis(client);
  if (client.status === 'ready' && !closing) {
    await Promise.race([client.quit().catch(() => undefined), delay(QUIT_WAIT_MS)]);
  } else if (closing && client.status !== 'end') {
    await Promise.race([new Promise<void>((resolve) => client.once('end', resolve)), delay(QUIT_WAIT_MS)]);
  }
  const status = client.status;
  client.disconnect();
  endReconnecting(client, status);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

/** Whether ioredis options name a server themselves (otherwise ioredis falls back to 127.0.0.1:6379). */
function hasAddress(options: RedisOptions | undefined): boolean {
  return options !== undefined && (options.host !== undefined || options.port !== undefined || options.path !== undefined || options.sentinels !== undefined);
}

/** A plain `Error` without a code: says nothing an operator can act on. */
function isBare(err: unknown): boolean {
  return err instanceof Error && err.constructor === Error && (err as { code?: unknown }).code === undefined;
}

/** Commands whose arguments hold a password: `AUTH [user] password`, `HELLO 3 AUTH user password`. */
const CREDENTIAL_COMMANDS: ReadonlySet<string> = new Set(['auth', 'hello']);

/**
 * `err` (and the errors it carries: `cause`, a Cluster's `lastNodeError`) without the arguments of
 * an AUTH or HELLO command: ioredis puts the command a reply answered on its `ReplyError`
 * (`command: { name: 'hello', args: ['3', 'AUTH', user, password] }`), and the error stays the
 * connect error's `cause`, which loggers print. The arguments are replaced in place.
 */
export function withoutCredentials(err: unknown): unknown {
  let at: unknown = err;
  for (let depth = 0; depth < 5 && typeof at === 'object' && at !== null; depth++) {
    const command = (at as { command?: { name?: unknown; args?: unknown } }).command;
    if (typeof command === 'object' && command !== null && typeof command.name === 'string' && CREDENTIAL_COMMANDS.has(command.name.toLowerCase())) {
      command.args = ['(redacted)'];
    }
    const next = at as { cause?: unknown; lastNodeError?: unknown };
    at = next.cause ?? next.lastNodeError;
  }
  return err;
}

/**
 * Connects a new ioredis client (single node or Cluster), or stops it and rethrows: a failed
 * client must not live on in the background with its reconnect timer. Stops when `signal` aborts.
 * `connect` replaces `client.connect()` (a Cluster waits for its own end of the attempt, see `connectCluster`).
 * Credentials the server refuses are a terminal `ConfigurationError` (`CONNECTION_AUTH_FAILED`,
 * see `authRefused`) naming `auth.field`, not a retryable connect failure.
 *
 * @param auth - The factory and the option holding the credentials, for that error.
 * @default auth { owner: 'redis', field: 'url' }
 */
export async function connectRedis<T extends { on(event: 'error', listener: (err: unknown) => void): unknown; connect(): Promise<unknown>; disconnect(): void }>(
  client: T,
  signal: AbortSignal,
  connect: () => Promise<unknown> = () => client.connect(),
  auth: { owner: string; field: string } = { owner: 'redis', field: 'url' },
): Promise<T> {
  // Errors reach callers through their commands; without a listener ioredis prints them.
  let lastError: unknown;
  client.on('error', (err) => void (lastError = err));
  const stop = (): void => client.disconnect();
  signal.addEventListener('abort', stop, { once: true });
  try {
    await connect();
  } catch (err) {
    client.disconnect();
    // Once its retries end, ioredis rejects connect() with a bare "Connection is closed."; the
    // reason (ECONNREFUSED, an AUTH the server refused) came as an 'error' event. Keep that one
    // as the cause, so the log's class and code say why.
    const reason = withoutCredentials(isBare(err) && lastError !== undefined ? lastError : err);
    throw authRefused(auth.owner, auth.field, reason) ?? reason;
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return client;
}

/**
 * Makes sure the connection is on the database asked for (`options.db`, or a URL's `/N` path).
 * ioredis sends SELECT during its handshake but only emits a refusal as an 'error' event and
 * goes on, connected to database 0 — so every command would silently use another keyspace.
 * SELECT is sent once more (one round trip per connect, only for a database other than 0):
 * a server that refuses it has no such database (or no SELECT at all), a configuration error.
 */
async function checkDatabase(client: Redis, field: 'options.db' | 'url'): Promise<void> {
  const db = Number(client.options.db ?? 0);
  if (db === 0) return;
  try {
    await client.select(db);
  } catch (err) {
    // A reply is the server's verdict on the index; anything else (a dropped socket) is a connect failure.
    if (!(err instanceof Error) || errorName(err as unknown as Record<string, unknown>) !== 'ReplyError') throw err;
    throw new ConfigurationError(`redis(): the server refused database ${db} (SELECT ${db}: ${err.message.slice(0, 120)})`, {
      field,
      expected: 'a database index the server has (0 to its `databases` setting − 1)',
      cause: err,
    });
  }
}

// Unknown keys are refused; `options` is the driver's and is not looked into.
const REDIS_KEYS = keysOf<RedisClientOptions>({ ...HANDLE_KEYS, url: true, options: true, provider: true });

/**
 * A cached ioredis client (the `ioredis` package must be installed; it is loaded when this is called).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid option, e.g. a `url` that is not `redis://`/`rediss://`,
 *   or a database (`options.db`, the URL's `/N` path or `?db=N`) that is not a whole number ≥ 0; at
 *   first use (terminal, as the invocation's error) for such a `REDIS_URL`, for no address at all (no `url`, no
 *   `REDIS_URL`, no `options.host`/`port`/`path`/`sentinels`), when `ioredis` is missing
 *   (`CONNECTION_DRIVER_MISSING`) or cannot load (`CONNECTION_DRIVER_LOAD_FAILED`), or when the
 *   server refuses the credentials (`CONNECTION_AUTH_FAILED`, field `url` or `options.password`).
 * @example
 * const cache = redis({ url: process.env.REDIS_URL, options: { commandTimeout: 500 } });
 * const value = await cache.read((r) => r.get('k'));
 */
export function redis(options?: RedisClientOptions): RedisHandle {
  const o = factoryOptions('redis', options, REDIS_KEYS);
  if (o.url !== undefined) checkUrl('redis', 'url', 'option "url"', o.url, REDIS_SCHEMES, true, true);
  checkRedisDatabase('redis', o.url, 'option "url"', o.options?.db);
  const settings: RedisOptions = { ...profileFor(o.provider).redis, ...o.options, lazyConnect: true };
  const driver = loadIoredis();
  let view: Redis | undefined;
  const handle = makeHandle<Redis>(
    {
      ...handleOptions(o, 'redis'),
      async create({ signal }) {
        const url = o.url ?? process.env.REDIS_URL;
        if (url !== undefined) {
          checkUrl('redis', 'url', 'REDIS_URL', url, REDIS_SCHEMES, true, true);
          if (o.url === undefined) checkRedisDatabase('redis', url, 'REDIS_URL', undefined);
        } else if (!hasAddress(o.options)) {
          throw new ConfigurationError('redis(): no Redis address: pass option "url", set REDIS_URL, or give options.host/port/path', {
            field: 'url',
            expected: 'a redis:// or rediss:// URL',
          });
        }
        const { Redis } = await useDriver('redis', 'ioredis', driver);
        const client = url ? new Redis(url, settings) : new Redis(settings);
        failDroppedReplies(client);
        noteBlockingWrites(client);
        const field = o.options?.password !== undefined || o.options?.username !== undefined ? 'options.password' : 'url';
        return connectRedis(
          client,
          signal,
          async () => {
            await client.connect();
            await checkDatabase(client, o.options?.db !== undefined ? 'options.db' : 'url');
          },
          { owner: 'redis', field },
        );
      },
      ping: (client) => client.ping(),
      isReady: (client) => client.status === 'ready' && !closingRedis(client) && redisWritable(client),
      close: closeRedis,
      readBudget: async (client) => parseRedisClientsInfo(await client.info('clients')),
    },
    'redis',
    { stuck: stuckAtCutOff, pingGraceMs: (client) => blockedForMs(client) },
  );
  return Object.assign(handle, {
    contextValue: (client: Redis) => (view ??= commandView(handle, client)),
  });
}
