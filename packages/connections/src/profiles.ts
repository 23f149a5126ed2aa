/**
 * Client settings that suit each platform, chosen from the environment. Every value is a
 * default: the options passed to a factory override it.
 *
 * Why these values:
 * - MongoDB `maxPoolSize` small: many instances × a large pool is how a database runs out
 *   of connections. One-request-at-a-time platforms (Lambda, OpenWhisk) need few.
 * - `maxIdleTimeMS`: a pooled connection idle this long (e.g. across a freeze) is closed
 *   instead of reused, so a thawed instance does not pick up a socket the server or a NAT
 *   dropped meanwhile.
 * - `serverMonitoringMode: 'poll'`: the streaming monitor holds a long-lived awaiting
 *   socket that a freeze breaks; polling opens nothing long-lived.
 * - ioredis `enableOfflineQueue: false`: a command on a broken connection fails at once
 *   (and is retried by the handle) instead of waiting in a queue until the deadline.
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: ioredis would
 *   otherwise re-send commands that were in flight when a socket died — a blind retry of
 *   writes. The handle decides what may be repeated.
 * - bounded `retryStrategy`: a client that cannot reconnect gives up, and the handle
 *   builds a new one on the next invocation, instead of a timer retrying while frozen.
 */
import type { Provider } from '@steadyfn/handler';

type Env = Record<string, string | undefined>;

/**
 * The platform this process runs on, read from the variables each runtime sets:
 * `AWS_LAMBDA_FUNCTION_NAME` (aws), `__OW_ACTION_NAME` / `__OW_ACTIVATION_ID` (openwhisk),
 * `FUNCTIONS_WORKER_RUNTIME` (azure), `FUNCTION_TARGET` / `K_SERVICE` (gcp), else `direct`.
 *
 * @param env - The environment to read. @default process.env
 * @example
 * detectPlatform({ AWS_LAMBDA_FUNCTION_NAME: 'orders' }); // 'aws'
 */
export function detectPlatform(env: Env = process.env): Provider {
  if (env.AWS_LAMBDA_FUNCTION_NAME !== undefined) return 'aws';
  if (env.__OW_ACTION_NAME !== undefined || env.__OW_ACTIVATION_ID !== undefined) return 'openwhisk';
  if (env.FUNCTIONS_WORKER_RUNTIME !== undefined) return 'azure';
  if (env.FUNCTION_TARGET !== undefined || env.K_SERVICE !== undefined) return 'gcp';
  return 'direct';
}

/** MongoDB driver options of a profile (the driver's own names and units: `…MS` in milliseconds). */
export interface MongoProfile {
  /** Connections per client: 3 on one-request-at-a-time platforms (aws, openwhisk), else 10. */
  maxPoolSize: number;
  /** 0: no connection is kept open for nothing. */
  minPoolSize: number;
  /** 60 000 ms: a connection idle that long (e.g. across a freeze) is replaced, not reused. */
  maxIdleTimeMS: number;
  /** `poll`: no long-lived streaming monitor socket for a freeze to break. */
  serverMonitoringMode: 'poll';
  /** 5 000 ms instead of the driver's 30 s, which outlives most functions. */
  serverSelectionTimeoutMS: number;
  /** 5 000 ms. */
  connectTimeoutMS: number;
}

/** ioredis options of a profile (ioredis' own names; durations in milliseconds). */
export interface RedisProfile {
  /** `false`: a command on a broken connection fails at once (the handle repairs it) instead of queueing until the deadline. */
  enableOfflineQueue: false;
  /** 0: commands in flight when a socket dies fail… */
  maxRetriesPerRequest: number;
  /** …and are not sent again blindly after a reconnect. */
  autoResendUnfulfilledCommands: false;
  /** 3 000 ms to establish a connection. */
  connectTimeout: number;
  /** `boundedRetryStrategy`: 50, 100, 200, 400 ms, then give up. */
  retryStrategy: (times: number) => number | null;
  /**
   * 100 ms: while a restarted server loads its data (it accepts connections and answers INFO
   * with `loading:1`), the ready check asks again every 100 ms instead of every
   * `loading_eta_seconds` (at least 1 s), so a call that connected during the load goes on at
   * most 100 ms after the server serves, not up to a second later.
   */
  maxLoadingRetryTime: number;
  /** `reconnectOnReadonly`: after a failover, reconnect and resend a command the old primary refused. */
  reconnectOnError: (err: Error) => boolean | 1 | 2;
}

/** Client defaults for one platform; every value can be overridden by a factory's options. */
export interface Profile {
  provider: Provider;
  mongo: MongoProfile;
  redis: RedisProfile;
}

/**
 * ioredis `retryStrategy`: reconnect after 50, 100, 200, 400 ms, then give up (`null`): the
 * handle builds a new client on next use instead of a timer retrying while the instance is frozen.
 * @param times - The reconnect attempt, from 1.
 * @returns Milliseconds to wait, or `null` to stop.
 */
export function boundedRetryStrategy(times: number): number | null {
  return times > 4 ? null : 50 * 2 ** (times - 1);
}

/**
 * ioredis `reconnectOnError`: after a failover the old primary answers writes with READONLY.
 * The server refused the command, so reconnecting (to the new primary) and sending it again
 * cannot apply it twice.
 * @returns `2` (reconnect and resend) for READONLY, else `false`.
 */
export function reconnectOnReadonly(err: Error): boolean | 1 | 2 {
  return err.message.startsWith('READONLY') ? 2 : false;
}

// Instances that serve one request at a time need a couple of connections for parallel
// queries; instances that serve many concurrent requests (GCF gen2, Azure) need more.
const POOL_SIZE: Record<Provider, number> = { aws: 3, openwhisk: 3, gcp: 10, azure: 10, direct: 10 };

/**
 * The client defaults for a platform (see `MongoProfile`, `RedisProfile` for each value and why).
 * @param provider - @default detectPlatform()
 * @example
 * const { redis } = profileFor('aws');
 * new Redis(url, { ...redis, lazyConnect: true });
 */
export function profileFor(provider: Provider = detectPlatform()): Profile {
  return {
    provider,
    mongo: {
      maxPoolSize: POOL_SIZE[provider],
      minPoolSize: 0,
      maxIdleTimeMS: 60_000,
      serverMonitoringMode: 'poll',
      // The driver's 30 s default is longer than most function timeouts.
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 5_000,
    },
    redis: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 3_000,
      maxLoadingRetryTime: 100,
      retryStrategy: boundedRetryStrategy,
      reconnectOnError: reconnectOnReadonly,
    },
  };
}
