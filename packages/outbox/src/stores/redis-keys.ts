/**
 * Where the Redis outbox keeps things. Events live in *partitions*, one per hash tag: the
 * state keys an atomic write touches and its partition's keys share the tag, so on Redis
 * Cluster the whole write is one script on one slot.
 *
 *   <prefix>{tag}:events         stream: one entry per pending event (a aggregate, s seq, i id, e envelope, t type, p traceparent)
 *   <prefix>{tag}:seq            hash: aggregate → last seq assigned
 *   <prefix>{tag}:agg:<agg>      sorted set: the aggregate's pending stream ids, scored by seq
 *   <prefix>{tag}:pending        sorted set: aggregate → ms of its oldest pending event
 *   <prefix>{tag}:attempts       hash: <stream id>:s / :f / :u → started / finished / unjudged attempts
 *   <prefix>{tag}:quarantine     hash: aggregate → JSON { fromSeq, reason, at }
 *   <prefix>{tag}:sent           sorted set (`mark: 'sent'` only): stream id → ms it was accepted
 *   <prefix>{tag}:lease:<agg>    the relay lease of an aggregate (kept by @steadyfn/lease); when that key
 *                                would pass the lease store's 1,024 characters, `lease:#<h>` instead
 *                                (`h`: sha256 of the aggregate, base64url: never an aggregate, which holds a `/`)
 *   <prefix>{tag}:applied:<h>    marker of an applied request key (sha256, base64url), for exactly-once
 *                                writes; holds the request's encoded answer when an idempotency plugin runs
 *   <prefix>{tag}:live           Redis Cluster: present (with a TTL each write renews) while the
 *                                partition is in the partition list
 *   <prefix>partitions           set of partition tags, for the sweeper (its own slot on a cluster, where it
 *                                also holds its master's epoch `}epoch:<run_id>:<replid>`: see `redis-partition-epoch.ts`)
 *   <prefix>home:<agg>           string `<ms> <tag>`: the aggregate's home partition, claimed by its first
 *                                write (`ms`: server time of a Redis Cluster claim, `0` on one server)
 */
import { createHash } from 'node:crypto';
import { ConfigurationError, PreconditionFailedError } from '../errors.js';
import type { RedisLike } from './redis-client.js';

/** Default key prefix of the Redis outbox. */
export const DEFAULT_REDIS_PREFIX = 'outbox:';

/** The partition of writes whose keys carry no hash tag (standalone Redis only). */
export const DEFAULT_PARTITION = 'default';

/**
 * The hash tag of a key as Redis Cluster reads it: the text between the first `{` and the
 * next `}`, when not empty; undefined otherwise (the whole key is hashed).
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** The keys of one partition. */
export interface PartitionKeys {
  tag: string;
  events: string;
  seq: string;
  pending: string;
  attempts: string;
  quarantine: string;
  sent: string;
  live: string;
  /** The sorted set of one aggregate's pending stream ids. */
  aggregate(agg: string): string;
  /**
   * The relay lease key of one aggregate (same slot): `<prefix>{tag}:lease:<agg>`, or with the
   * aggregate hashed (`hashedAggregate`) when that would pass `MAX_LEASE_KEY_LENGTH`.
   */
  lease(agg: string): string;
  /** The marker of an applied request key (its hash). */
  applied(hash: string): string;
}

/** Checks a key prefix: braces would move every key's hash slot. */
export function checkPrefix(owner: string, prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new ConfigurationError(`${owner}(): option "prefix" must be a non-empty string without braces; got ${JSON.stringify(prefix)}`, {
      field: 'prefix',
      expected: 'a non-empty string without { or }',
    });
  }
  return prefix;
}

/** Longest key the lease store takes (`@steadyfn/lease`), in characters. */
export const MAX_LEASE_KEY_LENGTH = 1024;

/**
 * Room kept after a relay lease key for a redrive lease's `:redrive:<fromSeq>:<quarantinedAt>`
 * (9 + 16 + 1 + 14 characters at most), in characters.
 */
export const REDRIVE_SUFFIX_RESERVE = 40;

/**
 * The stand-in of a long aggregate in a lease key: `#` and its sha256 (base64url, 43
 * characters). Holds no `/`, so it never equals an aggregate (`<type>/<id>`).
 */
export function hashedAggregate(aggregate: string): string {
  return `#${createHash('sha256').update(aggregate).digest('base64url')}`;
}

/**
 * The longest partition (hash) tag a write may use under `prefix`, in characters: every key
 * derived from it — the relay lease key with a hashed aggregate and a redrive's suffix after
 * it — stays within the lease store's `MAX_LEASE_KEY_LENGTH`.
 */
export function maxPartitionTagLength(prefix: string): number {
  return MAX_LEASE_KEY_LENGTH - REDRIVE_SUFFIX_RESERVE - `${prefix}{}:lease:${hashedAggregate('')}`.length;
}

/** Keys of the partition `tag` under `prefix`. */
export function partitionKeys(prefix: string, tag: string): PartitionKeys {
  const base = `${prefix}{${tag}}:`;
  return {
    tag,
    events: `${base}events`,
    seq: `${base}seq`,
    pending: `${base}pending`,
    attempts: `${base}attempts`,
    quarantine: `${base}quarantine`,
    sent: `${base}sent`,
    live: `${base}live`,
    aggregate: (agg) => `${base}agg:${agg}`,
    // Today's key when the lease store takes it (leases held across an upgrade still match), else hashed.
    lease: (agg) => {
      const key = `${base}lease:${agg}`;
      return key.length <= MAX_LEASE_KEY_LENGTH ? key : `${base}lease:${hashedAggregate(agg)}`;
    },
    applied: (hash) => `${base}applied:${hash}`,
  };
}

/** The set listing every partition that ever held an event. */
export function partitionsKey(prefix: string): string {
  return `${prefix}partitions`;
}

/**
 * The outbox stream that an atomic write touching `stateKey` appends to: same hash tag,
 * so state and events share a Redis Cluster slot.
 *
 * @example streamKeyFor('order:{o-42}:status') // 'outbox:{o-42}:events'
 */
export function streamKeyFor(stateKey: string, prefix: string = DEFAULT_REDIS_PREFIX): string {
  return partitionKeys(prefix, hashTagOf(stateKey) ?? DEFAULT_PARTITION).events;
}

/**
 * The key recording an aggregate's home partition (`<ms> <tag>`): the one partition its events
 * may be written in. Outside every partition (its own slot on a cluster).
 */
export function homeKey(prefix: string, aggregate: string): string {
  return `${prefix}home:${aggregate}`;
}

/** The role of each key of a partition: plain names, then the families `agg:`, `lease:`, `applied:`. */
const PARTITION_ROLES = new Map(Object.entries({
  events: 'events stream',
  seq: 'seq hash',
  pending: 'pending set',
  attempts: 'attempts hash',
  quarantine: 'quarantine hash',
  sent: 'sent set',
  live: 'live marker',
  agg: 'aggregate set',
  lease: 'relay lease',
  applied: 'request marker',
}));
const FAMILIES = new Set(['agg', 'lease', 'applied']);

/**
 * The role of `key` when it lies in the outbox's own key space under `prefix` — a key of the
 * partition `tag` (`<prefix>{tag}:…`), a home key (`<prefix>home:…`) or the partition list —,
 * else undefined. A state command or check on such a key is refused before anything is sent:
 * the application's state must never live where the outbox keeps its own.
 *
 * @example ownKeyRole('outbox:', 'o-42', 'outbox:{o-42}:pending') // 'pending set'
 */
export function ownKeyRole(prefix: string, tag: string, key: string): string | undefined {
  if (key === partitionsKey(prefix)) return 'partition list';
  if (key.startsWith(`${prefix}home:`)) return 'home key';
  const base = `${prefix}{${tag}}:`;
  if (!key.startsWith(base)) return undefined;
  const rest = key.slice(base.length);
  const family = rest.split(':')[0]!;
  return (rest === family || FAMILIES.has(family) ? PARTITION_ROLES.get(family) : undefined) ?? 'partition key';
}

/**
 * The refusal of a write, or a sweep, that met one of the outbox's own keys holding another
 * type than its role needs (an application key under the outbox's prefix): names the key's role,
 * name and type and the type expected, never what it holds. Not retryable: a redelivery meets
 * the same key.
 */
export function ownKeyTypeError(role: string, key: string, found: string, expected: string, what = 'nothing was written'): PreconditionFailedError {
  return new PreconditionFailedError(
    `outbox: the outbox's own ${role} key ${JSON.stringify(key)} holds a ${found}; expected a ${expected} (or no key): does another key of the application use the outbox's prefix? ${what}`,
  );
}

/**
 * `error` as `ownKeyTypeError` when it is Redis's WRONGTYPE and `key` (checked after the fact,
 * one TYPE) holds another type than `expected`; undefined otherwise. For a command on one own key,
 * where checking before would cost a round trip on every call.
 */
export async function ownKeyWrongType(client: RedisLike, error: unknown, role: string, key: string, expected: string, what?: string): Promise<PreconditionFailedError | undefined> {
  if (!(error instanceof Error) || !error.message.startsWith('WRONGTYPE')) return undefined;
  const found = String(await client.call('TYPE', key).catch(() => 'none'));
  return found !== expected && found !== 'none' ? ownKeyTypeError(role, key, found, expected, what) : undefined;
}
