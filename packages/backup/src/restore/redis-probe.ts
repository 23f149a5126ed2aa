/**
 * What a Redis restore target asks the server before it writes anything: a `PING` bounded by
 * `connectTimeoutMs` (a default ioredis client queues commands to a closed port forever), and
 * the newest RDB version the server reads (a DUMP payload newer than that is refused up front).
 * Apart from redis.ts so that the target's file is its option checks and its steps.
 */
import { rdbVersionOf } from '../sources/redis-values.js';
import type { RedisLike } from '../sources/redis.js';
import type { RedisVersion } from './redis-stream-groups.js';

/** Thrown when a restore call's first `PING` gets no answer within `connectTimeoutMs` (a timeout: the target is unavailable). */
export class PingTimeoutError extends Error {
  override readonly name = 'PingTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * Resolves once `c` answers a `PING` within `timeoutMs`; rejects with `PingTimeoutError` past
 * it (or with the client's own error). Asked before the first request of every restore call
 * (`redisLockPlace`'s `readLock`), not once per client: a warm function keeping one client and
 * one target meets a later outage bounded too. One round trip per call.
 */
export async function pingWithin(c: RedisLike, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PingTimeoutError(`no answer to PING within connectTimeoutMs (${timeoutMs} ms)`)), timeoutMs);
  });
  const pong = c.call('PING');
  pong.catch(() => undefined);
  try {
    await Promise.race([pong, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** RDB version by Redis version (major.minor), for a target with no key to DUMP. */
const RDB_BY_VERSION: Array<[number, number, number]> = [
  [8, 0, 12],
  [7, 4, 12],
  [7, 2, 11],
  [7, 0, 10],
  [5, 0, 9],
  [4, 0, 8],
  [3, 2, 7],
  [2, 6, 6],
];

/**
 * The newest RDB version the target reads: a key's `DUMP` tells exactly (no write is made to
 * find out); else the table above by its Redis version (`targetRedisVersion`: `INFO`, else
 * `HELLO`), undefined when that is unknown too.
 */
export async function targetRdbVersion(client: RedisLike, version: RedisVersion | undefined): Promise<number | undefined> {
  const nodes = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  for (const node of nodes) {
    const [, keys] = (await node.callBuffer('SCAN', '0', 'COUNT', 10)) as [Buffer, Buffer[]];
    for (const key of keys) {
      const payload = (await node.callBuffer('DUMP', key)) as Buffer | null;
      if (payload) return rdbVersionOf(payload);
    }
  }
  if (version === undefined) return undefined;
  const [major, minor] = version;
  return RDB_BY_VERSION.find(([ma, mi]) => major > ma || (major === ma && minor >= mi))?.[2];
}
