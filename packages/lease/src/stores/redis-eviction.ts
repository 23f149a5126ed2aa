/**
 * Whether the Redis server may evict the store's keys: under any `maxmemory-policy` but
 * `noeviction` (ElastiCache's default parameter group is `volatile-lru`, and every key of the
 * store has a TTL), Redis may delete a live lease under memory pressure — a held one evicted lets
 * a second owner in (whoever holds it: an idempotent run, an outbox relay, a backup job or
 * restore lock), a done one lets its work run again. The store asks each server it
 * meets once (`INFO memory`, which managed Redis allows where `CONFIG GET` is refused), off the
 * call path, and tells its owner once (`LEASE_STORE_EVICTS`).
 * https://redis.io/docs/latest/develop/reference/eviction/
 */
import { createLogger, currentContext, invalidOption, type Logger } from '@steadyfn/handler/internal';
import type { RedisLeaseClient } from './redis-types.js';

/** The code of the notice that the server may evict the store's keys. */
export const LEASE_STORE_EVICTS = 'LEASE_STORE_EVICTS';

/** Something the store learnt about its server that its owner should log once: a stable `code` and a message with no key, value or setting read. */
export interface LeaseStoreNotice {
  readonly code: typeof LEASE_STORE_EVICTS;
  readonly message: string;
}

const EVICTS: LeaseStoreNotice = {
  code: LEASE_STORE_EVICTS,
  message:
    "the Redis server's maxmemory-policy is not noeviction: under memory pressure it may evict a lease record (every key of the store has a TTL). A lease lost to eviction lets a second owner in while the first still works (an idempotent run, an outbox relay, a backup job or restore lock), and a completed record lost lets its work run again; set maxmemory-policy noeviction (ElastiCache: a parameter group of your own, its default is volatile-lru)",
};

/** A node a policy can be read from (an ioredis `Redis`). */
type Node = Pick<RedisLeaseClient, 'call'>;

/**
 * `seen(c)`, called with the client of each claim before it is sent: the first time it meets a
 * client, sends `INFO memory` to it (to each master of a Cluster, once its slots are known)
 * without waiting, so the reply comes in beside the claim's (on one connection, before it), and
 * `notify`s once per store when a server answers a policy other than `noeviction`. Says nothing
 * when `INFO` is refused (`NOPERM` under an ACL, a renamed command) or the client has no `call`;
 * a failure to reach the server asks again at the next claim. A no-op without `notify` or once told.
 */
export function evictionWatch(notify: ((notice: LeaseStoreNotice) => void) | undefined): (c: RedisLeaseClient) => void {
  if (notify === undefined) return () => undefined;
  const asked = new WeakSet<object>();
  let told = false;
  const ask = (c: RedisLeaseClient, node: Node): void => {
    void policyOf(node).then((policy) => {
      if (policy === 'unreachable') asked.delete(c);
      else if (!told && policy !== undefined && policy !== 'noeviction') {
        told = true;
        notify(EVICTS);
      }
    });
  };
  return (c) => {
    if (told || asked.has(c)) return;
    // A Cluster not connected yet knows no masters: they are asked at a later claim.
    const nodes: Node[] = c.isCluster ? (c.nodes?.('master') ?? []) : [c];
    if (nodes.length === 0) return;
    asked.add(c);
    for (const node of nodes) ask(c, node);
  };
}

/** The node's `maxmemory_policy`; `undefined` when it refuses `INFO` or does not say; `'unreachable'` for any other failure. Never rejects. */
async function policyOf(node: Node): Promise<string | undefined> {
  if (typeof node.call !== 'function') return undefined;
  try {
    const info = String(await node.call('INFO', 'memory'));
    return /^maxmemory_policy:([^\r\n]*)/m.exec(info)?.[1]?.trim();
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    return /^NOPERM\b/.test(message) || /^ERR unknown command\b/i.test(message) ? undefined : 'unreachable';
  }
}

let fallbackLogger: Logger | undefined;

/**
 * The `notify` of a public `redisLeaseStore` (its `logger` option, checked for `owner`): each
 * notice is one warning, its code and text only (no key, value, URL or setting read), to
 * `logger`, else the running invocation's `ctx.log`, else a JSON logger on stdout
 * (`component: "steadyfn-lease"`) — as `@steadyfn/connections` and `@steadyfn/state` log.
 */
export function logNotices(owner: string, logger: unknown): (notice: LeaseStoreNotice) => void {
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof (logger as { warn?: unknown }).warn !== 'function')) {
    invalidOption(owner, 'logger', 'a Logger (createLogger() from @steadyfn/handler)', logger);
  }
  return (notice) => {
    const log = (logger as Logger | undefined) ?? currentContext()?.log ?? (fallbackLogger ??= createLogger({ component: 'steadyfn-lease' }));
    log.warn(`lease store: ${notice.message} (said once)`, { code: notice.code });
  };
}
