/**
 * Redis restore target: DUMP records with `RESTORE key ttl payload REPLACE ABSTTL`, typed
 * records with plain commands (chunk 0 replaces the key), expiry with `PEXPIREAT`. Pipelined
 * on a single server; on a Cluster, commands go out concurrently (a pipeline must stay on one
 * node). A DUMP payload newer than the target's RDB version is refused before anything is
 * written (restore a `typed` backup there instead).
 */
import { checkKnownKeys, intOption, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { RestoreApplyError, RestoreUnsupportedError, describeError } from '../errors.js';
import { parseRedisRecord } from '../format/records.js';
import { decodeBytes, encodeBytes } from '../sources/redis-values.js';
import { redisSource, type RedisLike } from '../sources/redis.js';
import type { ClientInput } from '../sources/types.js';
import { resolveRedis, unprefixedRedis } from '../sources/redis-unprefixed.js';
import type { Manifest } from '../format/manifest.js';
import { clearRedisScratch, readRedisScratchMarker, scratchMarkerKey, unlinkUnder, writeRedisScratchMarker } from './redis-scratch.js';
import type { RestoreTarget, ScratchMarker } from './targets.js';
import { REDIS_LOCK_PREFIXES_KEY, isBookkeepingKey, redisLockPlace, redisRestoreKeys } from './lock-places.js';
import { anyKeyUnder, databaseKeys } from './redis-held.js';
import { restoreCall, targetRedisVersion, type RedisRestoreCall, type StreamGroupLosses } from './redis-stream-groups.js';
// The commands a record becomes, and what the target asks before writing: apart, to keep this
// file to the target's options and steps.
import { commandsFor, unclaimed } from './redis-commands.js';
import { pingWithin, targetRdbVersion } from './redis-probe.js';

/** The key patterns (under the prefix) a restore of `manifest` writes: its datasets' `SCAN` patterns. */
function patternsOf(manifest: Manifest): string[] {
  return manifest.datasets.map((d) => String(d.options?.pattern ?? '*'));
}

/** Options of `redisTarget()`. */
export interface RedisTargetOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a function giving one. Without the ioredis `keyPrefix`
   * option (ioredis does not prefix `SCAN` patterns, so the emptiness check would miss its keys):
   * a prefixed client is refused (`ConfigurationError`, code `REDIS_CLIENT_KEY_PREFIX`); pass this
   * target's `keyPrefix` instead.
   */
  client: ClientInput<RedisLike>;
  /** Prepended to every key (drills restore under a scratch prefix); `''` is no prefix. @default '' */
  keyPrefix?: string;
  /** Commands per pipeline (single server) or in flight (Cluster). @default 500 */
  batchSize?: number;
  /**
   * How long (ms) the first request of every restore call (`restore`, `pointInTimeRestore`,
   * `restoreStream`, `restoreStatus`: a `PING`, before the restore lock is read) may wait for an
   * answer; past it the call throws `RestoreTargetUnavailableError`. Asked on every call, not
   * once per client, so a warm function that keeps one target meets a later outage bounded too;
   * a getter (`client: () => …`) is asked on every use, so a new client it hands out is the one
   * pinged. A default ioredis client retries a closed port forever and queues commands
   * meanwhile: without this bound an unreachable target took over a minute to fail.
   * @default 10000
   */
  connectTimeoutMs?: number;
}

/**
 * A Redis (or Redis Cluster) restore target.
 *
 * @example
 * await restore({ backup: { storage, id }, target: redisTarget({ client: redis }) });
 * @throws {ConfigurationError} a missing client or an option out of range; a client with an ioredis
 * `keyPrefix` (code `REDIS_CLIENT_KEY_PREFIX`; pass this target's `keyPrefix` instead), now or,
 * from a getter, on every use
 */
export function redisTarget(options: RedisTargetOptions): RestoreTarget {
  checkKnownKeys('redisTarget', '', options, keysOf<RedisTargetOptions>({ client: true, keyPrefix: true, batchSize: true, connectTimeoutMs: true }));
  if (options === null || typeof options !== 'object' || !options.client) invalidOption('redisTarget', 'client', 'an ioredis Redis or Cluster, or a function giving one', options?.client);
  // The client's own keyPrefix is refused (ioredis does not prefix SCAN patterns): this option does it.
  if (typeof options.client !== 'function') unprefixedRedis('redisTarget', options.client);
  // '' (the default, spelled out) is no prefix: keys are restored under their own names.
  if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') invalidOption('redisTarget', 'keyPrefix', "a string ('' for none)", options.keyPrefix);
  const prefix = options.keyPrefix ?? '';
  const batchSize = intOption('redisTarget', 'batchSize', options.batchSize, 500, 1, 100_000);
  const connectTimeoutMs = intOption('redisTarget', 'connectTimeoutMs', options.connectTimeoutMs, 10_000, 1, 2 ** 31 - 1);
  const prefixBytes = Buffer.from(prefix);
  const reserved = redisRestoreKeys(prefix);
  // The set of locked prefixes is the database's (it may lie under the prefix): never written either.
  const reservedKeys = [Buffer.from(reserved.lock), Buffer.from(reserved.marker), Buffer.from(REDIS_LOCK_PREFIXES_KEY)];
  // Per restore call (`prepare` runs before the restore lock: a second call on this object, even
  // one refused later as busy, must not reset the first's): each call's state under its token.
  const calls = new WeakMap<object, RedisRestoreCall>();
  // For a caller driving the target by hand without the token (one call at a time): the latest prepared.
  let latest = restoreCall(undefined);
  const stateOf = (call: object | undefined): RedisRestoreCall => (call === undefined ? undefined : calls.get(call)) ?? latest;

  /** Sends `commands`; resolves to their replies, in order. */
  async function send(client: RedisLike, commands: Array<Array<string | Buffer | number>>): Promise<unknown[]> {
    try {
      if (typeof client.nodes === 'function') {
        return await Promise.all(commands.map(([name, ...args]) => client.callBuffer(String(name), ...args)));
      }
      const pipeline = client.pipeline();
      for (const [name, ...args] of commands) pipeline.callBuffer(String(name), ...args);
      const replies: unknown[] = [];
      for (const [error, reply] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        replies.push(reply);
      }
      return replies;
    } catch (error) {
      throw new RestoreApplyError(`writing to Redis failed (${describeError(error)})`, error);
    }
  }

  /** Sends `commands` and notes each pending entry a claim did not take back (its stream entry is gone). */
  async function sendNoting(client: RedisLike, commands: Array<Array<string | Buffer | number>>, losses: StreamGroupLosses): Promise<void> {
    const replies = await send(client, commands);
    commands.forEach((command, i) => {
      const stream = unclaimed(command, replies[i], prefixBytes.length);
      if (stream !== undefined) losses.notePendingNotRestored(stream);
    });
  }

  return {
    kind: 'redis',

    async prepare(manifest, signal) {
      if (manifest.source.kind !== 'redis') throw new RestoreUnsupportedError(`backup ${manifest.backupId} is a ${manifest.source.kind} backup; this target is Redis`);
      const hasDump = manifest.datasets.some((d) => d.encoding !== 'typed' && d.count > 0);
      const source = manifest.source.rdbVersion;
      const client = await resolveRedis('redisTarget', options.client);
      // Always one request before the first write, so a refused login (WRONGPASS, NOAUTH) or an
      // unreachable server is a typed error with nothing written, whatever the backup holds.
      await client.callBuffer('PING');
      const version = await targetRedisVersion(client);
      if (hasDump && source !== undefined) {
        const target = await targetRdbVersion(client, version);
        if (target !== undefined && target < source) {
          throw new RestoreUnsupportedError(
            `the backup holds DUMP payloads of RDB version ${source}; the target reads RDB version ${target} at most. Take a typed backup (redisSource({ encoding: 'typed' }) or targetRdbVersion: ${target})`,
            [{ key: manifest.backupId, message: `RDB ${source} > ${target}` }],
          );
        }
      }
      const state = restoreCall(version, version === undefined);
      const call = {};
      calls.set(call, state);
      latest = state;
      // A restore merges into what is there: say so when the target held data. Counted only
      // without a prefix (DBSIZE per master); under a prefix the keys are not counted.
      const warnings: string[] = [];
      if (prefix === '') {
        const keys = await databaseKeys(client, signal);
        // Only expired keys (not removed yet) are no data: as `heldData`.
        if (keys > 0 && (await anyKeyUnder(client, '', signal))) warnings.push(`the target database already held ${keys} key(s) before the restore: keys the backup has are replaced, the others are kept`);
      }
      return { warnings, call };
    },

    async heldData(_names, signal) {
      const client = await resolveRedis('redisTarget', options.client);
      if (prefix === '') {
        const keys = await databaseKeys(client, signal);
        // DBSIZE counts keys that expired but were not removed yet (nothing a user can read);
        // SCAN leaves them out: empty unless it finds a live key (it stops at the first).
        return keys > 0 && (await anyKeyUnder(client, '', signal)) ? [{ where: 'the database (no keyPrefix)', count: `${keys} key(s)` }] : [];
      }
      return (await anyKeyUnder(client, prefix, signal)) ? [{ where: `keys under keyPrefix "${prefix}"`, count: 'at least 1 key' }] : [];
    },

    skips(_dataset, line) {
      return isBookkeepingKey(decodeBytes(parseRedisRecord(line).k));
    },

    check(_dataset, line, call) {
      // Everything apply will do with the record, without doing it: a record that does not
      // turn into commands is refused now, before anything is written.
      const { support, losses } = stateOf(call);
      const record = parseRedisRecord(line);
      if (record.t !== 'dump') {
        const problem = losses.check(record, decodeBytes(record.k));
        if (problem !== undefined) return problem;
      }
      commandsFor(record, Buffer.alloc(0), support);
      return undefined;
    },

    checkWarnings: (call) => stateOf(call).losses.warnings(),

    notices: (call) => stateOf(call).losses.notices(),

    async apply(_dataset, lines, signal, call) {
      const { support, losses } = stateOf(call);
      const client = await resolveRedis('redisTarget', options.client);
      let batch: Array<Array<string | Buffer | number>> = [];
      let applied = 0;
      for await (const line of lines) {
        const record = parseRedisRecord(line);
        const name = decodeBytes(record.k);
        const key = Buffer.concat([prefixBytes, name]);
        applied++;
        // A restore lock or marker, or a drill marker (lock-places.ts; a backup an earlier version made of
        // a database a restore or drill once wrote may hold one), and the target's own, are never
        // written: the record is counted, not written.
        if (isBookkeepingKey(name) || reservedKeys.some((r) => r.equals(key))) continue;
        batch.push(...commandsFor(record, key, support));
        if (batch.length >= batchSize) {
          // Stops between pipelines once the signal aborts (the restore is idempotent: run it again).
          signal?.throwIfAborted();
          await sendNoting(client, batch, losses);
          batch = [];
        }
      }
      signal?.throwIfAborted();
      if (batch.length > 0) await sendNoting(client, batch, losses);
      return applied;
    },

    async finish() {
      // Redis has no indexes; TTLs were applied with the data.
    },

    async *readBack(dataset, signal) {
      const pattern = String(dataset.options?.pattern ?? '*');
      const source = redisSource({
        client: options.client,
        pattern: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}${pattern}`,
        bigKeyBytes: Number(dataset.options?.bigKeyBytes ?? 8 * 1024 * 1024),
        bigKeyElements: Number(dataset.options?.bigKeyElements ?? 10_000),
        chunkElements: Number(dataset.options?.chunkElements ?? 1000),
        chunkBytes: Number(dataset.options?.chunkBytes ?? 1024 * 1024),
        digestWithoutPrefix: prefix,
      });
      // The backup's topology is the source's, not this server's: not checked on a read-back.
      const { topology: _topology, ...rest } = dataset.options ?? {};
      for await (const record of source.read({ ...dataset, options: rest }, undefined, signal)) {
        const parsed = parseRedisRecord(record.line);
        const key = decodeBytes(parsed.k).subarray(prefixBytes.length);
        yield JSON.stringify({ ...parsed, k: encodeBytes(key) });
      }
    },

    async drop(manifest, signal) {
      // With or without a prefix: only the keys matching the backup's patterns (what the drill
      // restored into a scratch that held none of them), never steadyfn's bookkeeping.
      const client = await resolveRedis('redisTarget', options.client);
      // A key that fails to unlink is an error (the drill reports it; its marker stays, for the next drill).
      await unlinkUnder(client, prefix, patternsOf(manifest), signal, isBookkeepingKey);
      await client.call('DEL', scratchMarkerKey(prefix));
    },

    // The lock is read first by every call (restoreStatus, the restores' checkFree): a bounded PING before it.
    lock: redisLockPlace(() => resolveRedis('redisTarget', options.client), prefix, (c) => pingWithin(c, connectTimeoutMs)),

    // The drill marker (redis-scratch.ts), with or without a prefix: a later drill takes over its leftovers.
    scratchCollections: (manifest: Manifest) => patternsOf(manifest),
    markScratch: async (marker: ScratchMarker) => writeRedisScratchMarker(await resolveRedis('redisTarget', options.client), prefix, marker),
    readScratchMarker: async () => readRedisScratchMarker(await resolveRedis('redisTarget', options.client), prefix),
    clearScratch: async (marker: ScratchMarker, signal?: AbortSignal) => clearRedisScratch(await resolveRedis('redisTarget', options.client), prefix, marker, signal, isBookkeepingKey),
  };
}
