/**
 * What every typed factory shares: the handle options it passes to `defineClient`, checks
 * of connection strings (whose values are never echoed: they may hold a password), and the
 * defaults of the AWS SDK clients.
 */
import { checkKnownKeys, ConfigurationError, oneOfOption } from '@steadyfn/handler/internal';
import type { ClientSpec } from '../spec.js';

/**
 * Handle settings every typed factory accepts; see `ClientSpec` for each. Durations are
 * milliseconds.
 */
export interface HandleOptions {
  /**
   * Name in logs, errors and stats; pass one when you use two clients of a kind.
   * @default the factory's name (`redis`, `redisCluster`, `mongo`, `s3`, `sqs`)
   */
  name?: string | undefined;
  /**
   * A client unused for longer than this (ms) is pinged before its next use; 0 pings before every use.
   * (`s3()`, `sqs()`: no ping; a request this long after the client's last one closes its idle kept-alive sockets first.)
   * @default 10000
   */
  idleThresholdMs?: number | undefined;
  /**
   * The thaw-check ping fails after this many ms (the client is rebuilt), plus its grace: `redis()`/`redisCluster()`, what is left of the timeouts of other callers' blocking commands it queues behind; `mongo()`, the driver's monitor wait when none of its servers can take the ping now (all `Unknown`, or no primary). Also bounded by the deadline; across checks that deadlines cut off, the time those checks waited unanswered adds up (not the time between them), and the check after them fails once that reaches this. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 1000
   */
  pingTimeoutMs?: number | undefined;
  /**
   * A connect fails after this many ms (`CONNECTION_UNAVAILABLE`); also bounded by the deadline. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 10000
   */
  connectTimeoutMs?: number | undefined;
  /**
   * How long (ms) closing one client may take before it is dropped. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 2000
   */
  closeTimeoutMs?: number | undefined;
  /**
   * The connection budget check after each connect: `true` for the defaults, or `{ warnRatio, shedRatio, backoffMs }`.
   * @default false
   */
  budget?: ClientSpec<unknown>['budget'] | undefined;
  /**
   * Clock in epoch ms, for tests.
   * @default Date.now
   */
  now?: ClientSpec<unknown>['now'] | undefined;
  /**
   * Where warnings go when no invocation is running (inside one: `ctx.log`).
   * @default a JSON logger on stdout
   */
  logger?: ClientSpec<unknown>['logger'] | undefined;
}

const PROVIDERS = ['aws', 'gcp', 'azure', 'openwhisk', 'direct'] as const;

/** The keys of `HandleOptions`, for a factory to spread into `keysOf<ItsOptions>({ ...HANDLE_KEYS, … })`. */
export const HANDLE_KEYS: { [K in keyof Required<HandleOptions>]: true } = {
  name: true,
  idleThresholdMs: true,
  pingTimeoutMs: true,
  connectTimeoutMs: true,
  closeTimeoutMs: true,
  budget: true,
  now: true,
  logger: true,
};

/** The handle settings of `options`, with `name` defaulted, ready to spread into a spec. */
export function handleOptions(options: HandleOptions, name: string): Omit<ClientSpec<never>, 'create'> {
  const { name: given, idleThresholdMs, pingTimeoutMs, connectTimeoutMs, closeTimeoutMs, budget, now, logger } = options;
  const out: Omit<ClientSpec<never>, 'create'> = { name: given ?? name };
  if (idleThresholdMs !== undefined) out.idleThresholdMs = idleThresholdMs;
  if (pingTimeoutMs !== undefined) out.pingTimeoutMs = pingTimeoutMs;
  if (connectTimeoutMs !== undefined) out.connectTimeoutMs = connectTimeoutMs;
  if (closeTimeoutMs !== undefined) out.closeTimeoutMs = closeTimeoutMs;
  if (budget !== undefined) out.budget = budget;
  if (now !== undefined) out.now = now;
  if (logger !== undefined) out.logger = logger;
  return out;
}

/**
 * Checks a factory's options object: its keys against `allowed` (a typo or a pre-`…Ms` name is
 * refused, not ignored; the driver's own `options`/`config` object is the driver's to judge and
 * is not looked into) and its `provider`.
 */
export function factoryOptions<O extends object>(owner: string, options: O | undefined, allowed: ReadonlyArray<string>): O {
  if (options === undefined) return {} as O;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError(`${owner}(): options must be an object; got ${Array.isArray(options) ? 'an array' : typeof options}`, { field: 'options', expected: 'an object' });
  }
  checkKnownKeys(owner, '', options, allowed);
  oneOfOption(owner, 'provider', (options as { provider?: unknown }).provider, PROVIDERS, 'direct');
  const driver = (options as { options?: unknown }).options;
  if (driver !== undefined && (typeof driver !== 'object' || driver === null)) {
    throw new ConfigurationError(`${owner}(): option "options" must be an object of driver options; got ${typeof driver}`, { field: 'options', expected: 'an object' });
  }
  return options;
}

/**
 * Checks a connection string's scheme without echoing it; with `parse`, also that it is a URL
 * (WHATWG, as ioredis parses it): `redis://u:pw@host:notaport` would otherwise fail every
 * connect as a retryable error instead of once as a configuration error.
 * @param from - Where it came from, for the message: the option or the environment variable.
 * @throws ConfigurationError (`CONFIG_INVALID`).
 */
export function checkUrl(owner: string, field: string, from: string, value: unknown, schemes: ReadonlyArray<string>, allowPath = false, parse = false): string {
  const path = allowPath && typeof value === 'string' && value.startsWith('/');
  const schemed = typeof value === 'string' && schemes.some((scheme) => value.startsWith(scheme));
  const expected = `a ${schemes.join(' or ')} URL${allowPath ? ' or a Unix socket path' : ''}`;
  if (!path && !schemed) {
    const got = typeof value === 'string' ? (value === '' ? 'an empty string' : 'a string with another scheme (value not shown)') : typeof value;
    throw new ConfigurationError(`${owner}(): ${from} must be ${expected}; got ${got}`, { field, expected });
  }
  if (parse && schemed && !URL.canParse(value as string)) {
    throw new ConfigurationError(`${owner}(): ${from} must be ${expected}; got a string that is not a valid URL, e.g. a port that is not a number from 0 to 65535 (value not shown)`, { field, expected });
  }
  if (parse && schemed) checkUrlCredentials(owner, field, from, new URL(value as string));
  return value as string;
}

/**
 * Whether the user name and password of `url` can be percent-decoded, as ioredis does
 * (`decodeURIComponent`) when it reads a URL: a bare `%` (`redis://:ab%zz@host`) made it throw a
 * `URIError` inside `new Redis(url)`, a retryable `CONNECTION_UNAVAILABLE` on every invocation.
 */
function decodable(url: URL): boolean {
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that the user name and password of `url` can be percent-decoded (see `decodable`).
 * @param from - Where it came from, for the message: the option, the node or the environment variable.
 * @throws ConfigurationError (`CONFIG_INVALID`, field `field`) asking to write `%` as `%25`; the value is not shown.
 */
export function checkUrlCredentials(owner: string, field: string, from: string, url: URL): void {
  if (decodable(url)) return;
  const expected = 'a user name and password percent-encoded (`%` written as `%25`)';
  throw new ConfigurationError(`${owner}(): ${from} holds a user name or password that is not percent-encoded: percent-encode \`%\` as \`%25\` (value not shown)`, { field, expected });
}

const WHOLE = /^\d+$/;

/**
 * The database of a Redis URL (its `/N` path, or a `?db=N` query, which ioredis reads too) and
 * `options.db` must be whole numbers ≥ 0: anything else made ioredis send `SELECT NaN`, whose
 * refusal escaped as an unhandled rejection (which ends a Node process) on every connect.
 * @throws ConfigurationError (`CONFIG_INVALID`, field `url` or `options.db`) naming `from`, never the URL.
 */
export function checkRedisDatabase(owner: string, url: string | undefined, from: string, db: unknown): void {
  const expected = 'a database number, a whole number ≥ 0';
  if (db !== undefined && !(typeof db === 'number' && Number.isInteger(db) && db >= 0)) {
    throw new ConfigurationError(`${owner}(): option "options.db" must be ${expected}; got ${typeof db === 'number' ? db : typeof db}`, { field: 'options.db', expected });
  }
  if (url === undefined || url.startsWith('/') || !URL.canParse(url)) return;
  const parsed = new URL(url);
  const path = parsed.pathname.split('/')[1] ?? '';
  const query = parsed.searchParams.get('db');
  if ((path !== '' && !WHOLE.test(path)) || (query !== null && !WHOLE.test(query))) {
    throw new ConfigurationError(`${owner}(): ${from} must name ${expected} (a /N path or ?db=N); got one that is not (value not shown)`, { field: 'url', expected });
  }
}

/** Parses Redis `INFO clients` into connections in use and the server's limit. */
export function parseRedisClientsInfo(info: string): { used: number; limit: number } | undefined {
  const used = /^connected_clients:(\d+)/m.exec(info)?.[1];
  const limit = /^maxclients:(\d+)/m.exec(info)?.[1];
  if (used === undefined || limit === undefined) return undefined;
  return { used: Number(used), limit: Number(limit) };
}

/** AWS SDK clients: fail a connect that hangs (a NAT mapping dropped while frozen) quickly, and retry it. */
export const AWS_CLIENT_DEFAULTS = { maxAttempts: 3, requestHandler: { connectionTimeout: 3_000 } } as const;
