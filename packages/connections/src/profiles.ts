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

/** The platform this process runs on, read from the variables each runtime sets. */
export function detectPlatform(env: Env = process.env): Provider {
  if (env.AWS_LAMBDA_FUNCTION_NAME !== undefined) return 'aws';
  if (env.__OW_ACTION_NAME !== undefined || env.__OW_ACTIVATION_ID !== undefined) return 'openwhisk';
  if (env.FUNCTIONS_WORKER_RUNTIME !== undefined) return 'azure';
  if (env.FUNCTION_TARGET !== undefined || env.K_SERVICE !== undefined) return 'gcp';
  return 'direct';
}

export interface MongoProfile {
  maxPoolSize: number;
  minPoolSize: number;
  maxIdleTimeMS: number;
  serverMonitoringMode: 'poll';
  serverSelectionTimeoutMS: number;
  connectTimeoutMS: number;
}

export interface RedisProfile {
  enableOfflineQueue: false;
  maxRetriesPerRequest: number;
  autoResendUnfulfilledCommands: false;
  connectTimeout: number;
  retryStrategy: (times: number) => number | null;
  reconnectOnError: (err: Error) => boolean | 1 | 2;
}

export interface Profile {
  provider: Provider;
  mongo: MongoProfile;
  redis: RedisProfile;
}

/** Reconnect after 50, 100, 200, 400 ms, then give up (the handle rebuilds on next use). */
export function boundedRetryStrategy(times: number): number | null {
  return times > 4 ? null : 50 * 2 ** (times - 1);
}

/**
 * After a failover the old primary answers writes with READONLY. The server refused the
 * command, so reconnecting (to the new primary) and sending it again cannot apply it twice.
 */
export function reconnectOnReadonly(err: Error): boolean | 1 | 2 {
  return err.message.startsWith('READONLY') ? 2 : false;
}

// Instances that serve one request at a time need a couple of connections for parallel
// queries; instances that serve many concurrent requests (GCF gen2, Azure) need more.
const POOL_SIZE: Record<Provider, number> = { aws: 3, openwhisk: 3, gcp: 10, azure: 10, direct: 10 };

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
      retryStrategy: boundedRetryStrategy,
      reconnectOnError: reconnectOnReadonly,
    },
  };
}
