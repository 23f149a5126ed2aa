/**
 * A Cluster with `natMap` follows a MOVED reply to the node it names, not to a random one.
 *
 * ioredis (5, 6.0.0: `Cluster#sendCommand`, its `moved` handler) stores the address of a MOVED
 * reply as the server wrote it (`"10.0.0.2:6379"`, the node's own address) in its slot table,
 * while its connection pool is keyed by the address `natMap` maps it to (the one it connects
 * to). The retry that follows looks the slot's node up in the pool by the unmapped address,
 * finds nothing, and sends the command to a RANDOM master; each wrong master answers MOVED
 * again, so after `maxRedirections` (16) tries the command fails with "Too many Cluster
 * redirections. Last error: ReplyError: MOVED …" unless a random pick hit the right node — and
 * until a slot refresh, every other slot of that range is sent at random too (the entry is the
 * range's shared array). Public bug redis/ioredis#1582; every natMap user (NAT, a proxy, a
 * tunnel to ElastiCache) meets it after a reshard or failover, and whenever ioredis' failover
 * retry (`retryDelayOnFailover`, also a random pick) lands on the wrong master.
 *
 * Here the Cluster's `handleError` gives its `moved` handler the address already mapped through
 * `natMap` (object or function, by ioredis' own `natMapper`), so the slot table holds the pool's
 * key; the handler's own `natMapper` call on that address returns it as it is (not mapped a
 * second time: a function natMap need not accept its own results). A MOVED is a node's refusal
 * to run the command, so following it never resends an applied write.
 */
import type { Cluster } from 'ioredis';

/** An address as ioredis' `natMapper` takes and returns it. */
type NodeAddress = { host?: string; port?: number };
type NatMapper = (this: Cluster, node: string | NodeAddress) => NodeAddress;
/** The handlers `Cluster#sendCommand` passes to `handleError` (only `moved` is read here). */
type Handlers = { moved?: (slot: number, key: string) => void } & Record<string, unknown>;
type HandleError = (this: Cluster, error: Error, ttl: unknown, handlers: Handlers) => void;

/** ioredis' Cluster internals used here (ioredis 5.4+ and 6). */
interface NatInternals {
  handleError?: HandleError;
  natMapper?: NatMapper;
  options?: { natMap?: unknown };
}

/** ioredis' pool key of an address (`getNodeKey`: host default 127.0.0.1, port default 6379). */
function poolKey(node: NodeAddress): string {
  return `${node.host || '127.0.0.1'}:${node.port || 6379}`;
}

const keyOf = (node: string | NodeAddress): string => (typeof node === 'string' ? node : `${node.host}:${node.port}`);

/**
 * Makes `cluster`'s MOVED handling store and follow the natMap-ped address (see the module
 * comment). Call it right after `new Cluster(…)`. Returns whether it did: false, the Cluster
 * left as it is, without a `natMap` option or when ioredis lacks the internals used
 * (`handleError`, `natMapper`; none known) — ioredis' own behaviour then, not an error.
 */
export function followMovedThroughNatMap(cluster: Cluster): boolean {
  const target = cluster as unknown as NatInternals;
  const { handleError, natMapper } = target;
  const natMap = target.options?.natMap;
  if (natMap === undefined || natMap === null || typeof handleError !== 'function' || typeof natMapper !== 'function') return false;
  /** While a `moved` handler runs: the mapped address it was given, and what it maps to (itself). */
  let mappedNow: { key: string; node: NodeAddress } | undefined;
  target.natMapper = function (this: Cluster, node) {
    if (mappedNow !== undefined && keyOf(node) === mappedNow.key) return { ...mappedNow.node };
    return natMapper.call(this, node);
  };
  target.handleError = function (this: Cluster, error, ttl, handlers) {
    const moved = handlers?.moved;
    if (typeof moved !== 'function') return handleError.call(this, error, ttl, handlers);
    return handleError.call(this, error, ttl, {
      ...handlers,
      moved: (slot: number, raw: string): void => {
        let node: NodeAddress;
        try {
          node = natMapper.call(this, raw);
        } catch {
          // An address ioredis cannot read (it throws on it itself): its own handling.
          return moved(slot, raw);
        }
        const key = poolKey(node);
        mappedNow = { key, node: { ...node, host: node.host || '127.0.0.1', port: node.port || 6379 } };
        try {
          moved(slot, key);
        } finally {
          mappedNow = undefined;
        }
      },
    });
  };
  return true;
}
