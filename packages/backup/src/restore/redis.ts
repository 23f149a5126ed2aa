/**
 * Redis restore target: DUMP records with `RESTORE key ttl payload REPLACE ABSTTL`, typed
 * records with plain commands (chunk 0 replaces the key), expiry with `PEXPIREAT`. Pipelined
 * on a single server; on a Cluster, commands go out concurrently (a pipeline must stay on one
 * node). A DUMP payload newer than the target's RDB version is refused before anything is
 * written (restore a `typed` backup there instead).
 */
import { checkKnownKeys, intOption, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { RestoreApplyError, RestoreUnsupportedError, describeError } from '../errors.js';
import { parseRedisRecord, streamFields, type RedisRecord } from '../format/records.js';
import { decodeBytes, encodeBytes, rdbVersionOf } from '../sources/redis-values.js';
import { redisSource, type RedisLike } from '../sources/redis.js';
import { resolveClient, type ClientInput } from '../sources/types.js';
import type { Manifest } from '../format/manifest.js';
import { clearRedisScratch, readRedisScratchMarker, scratchMarkerKey, unlinkUnder, writeRedisScratchMarker } from './redis-scratch.js';
import type { RestoreTarget, ScratchMarker } from './targets.js';
import { REDIS_LOCK_PREFIXES_KEY, isBookkeepingKey, redisLockPlace, redisRestoreKeys } from './lock-places.js';
import { anyKeyUnder, databaseKeys } from './redis-held.js';
import { StreamGroupLosses, streamGroupCommands, streamGroupSupport, targetRedisVersion, type RedisVersion, type StreamGroupSupport } from './redis-stream-groups.js';

/** The key patterns (under the prefix) a restore of `manifest` writes: its datasets' `SCAN` patterns. */
function patternsOf(manifest: Manifest): string[] {
  return manifest.datasets.map((d) => String(d.options?.pattern ?? '*'));
}

/** Options of `redisTarget()`. */
export interface RedisTargetOptions {
  /** An ioredis `Redis` or `Cluster`, or a function giving one. */
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

/** Thrown when a restore call's first `PING` gets no answer within `connectTimeoutMs` (a timeout: the target is unavailable). */
class PingTimeoutError extends Error {
  override readonly name = 'PingTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * Resolves once `c` answers a `PING` within `timeoutMs`; rejects with `PingTimeoutError` past
 * it (or with the client's own error). Asked before the first request of every restore call
 * (`redisLockPlace`'s `readLock`), not once per client: a warm function keeping one client and
 * one target meets a later outage bounded too. One round trip per call.
 */
async function pingWithin(c: RedisLike, timeoutMs: number): Promise<void> {
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
async function targetRdbVersion(client: RedisLike, version: RedisVersion | undefined): Promise<number | undefined> {
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

/** Parts per element of a typed record: [offset, bytes], [field, value], [member], [member, score], [index, value], [id, fields]. */
const ARITY: Record<Exclude<RedisRecord['t'], 'dump'>, number> = { string: 2, hash: 2, set: 1, zset: 2, list: 2, stream: 2 };

/**
 * The commands that write `record` under `key`.
 * @throws {TypeError} a record whose elements do not fit its type (checked before anything is written)
 */
function commandsFor(record: RedisRecord, key: Buffer, support: StreamGroupSupport): Array<Array<string | Buffer | number>> {
  if (record.t === 'dump') {
    const ttl = record.ttl > 0 ? record.ttl : 0;
    return [['RESTORE', key, ttl, Buffer.from(record.v, 'base64'), 'REPLACE', ...(ttl > 0 ? ['ABSTTL'] : [])]];
  }
  const type = record.t;
  const out: Array<Array<string | Buffer | number>> = [];
  // Chunk 0 replaces the key. A string's chunk 0 (offset 0) is a SET, not DEL + SETRANGE: an
  // empty string is a key Redis holds, and `SETRANGE k 0 ""` creates none.
  const setsString = type === 'string' && record.c === 0 && record.v[0]?.[0] === '0';
  if (record.c === 0 && !setsString) out.push(['DEL', key]);
  const elements = record.v.map((element) => {
    if (element.length !== ARITY[type]) throw new TypeError(`a ${type} element has ${element.length} parts`);
    return element.map(decodeBytes) as [Buffer, Buffer];
  });
  const whole = (b: Buffer, what: string, pattern: RegExp): string => {
    const text = b.toString('latin1');
    if (!pattern.test(text)) throw new TypeError(`a ${type} element has an invalid ${what}`);
    return text;
  };
  if (elements.length > 0) {
    switch (type) {
      case 'string':
        elements.forEach(([offset, bytes], i) => {
          const at = Number(whole(offset, 'offset', /^\d{1,15}$/));
          out.push(setsString && i === 0 ? ['SET', key, bytes] : ['SETRANGE', key, at, bytes]);
        });
        break;
      case 'hash':
        out.push(['HSET', key, ...elements.flat()]);
        break;
      case 'set':
        out.push(['SADD', key, ...elements.flat()]);
        break;
      case 'zset':
        out.push(['ZADD', key, ...elements.flatMap(([member, score]) => [whole(score, 'score', /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf)$/i), member])]);
        break;
      case 'list':
        out.push(['RPUSH', key, ...elements.map(([, value]) => value)]);
        break;
      case 'stream':
        for (const [id, fields] of elements) out.push(['XADD', key, whole(id, 'entry id', /^\d+-\d+$/), ...streamFields(fields).map(decodeBytes)]);
        break;
    }
  } else if (type === 'stream' && record.c === 0) {
    // A stream whose entries were all deleted or trimmed is still a key: one entry added and
    // trimmed away in the same command leaves it empty (its last id is not in the backup).
    out.push(['XADD', key, 'MAXLEN', '0', '0-1', 'steadyfn', '']);
  }
  if (record.g !== undefined || record.gp !== undefined || record.s !== undefined) {
    if (type !== 'stream') throw new TypeError(`a ${type} record carries consumer groups`);
    out.push(...streamGroupCommands(key, record, support));
  }
  if (record.ttl > 0) out.push(['PEXPIREAT', key, record.ttl]);
  return out;
}

/**
 * What one restore call into a Redis target read and noted (kept per call: `PreparedRestore.call`):
 * what the target's Redis version takes of a typed stream's groups, and what the checks found it cannot.
 */
interface RedisRestoreCall {
  support: StreamGroupSupport;
  losses: StreamGroupLosses;
}

/**
 * A call's state for a target of Redis `version` (undefined: not read, taken as a current
 * server; `assumed`: because the target refused to say — reported as `TARGET_VERSION_ASSUMED`).
 */
function restoreCall(version: RedisVersion | undefined, assumed = false): RedisRestoreCall {
  const support = streamGroupSupport(version);
  return { support, losses: new StreamGroupLosses(support, assumed) };
}

/** The key (without `prefix`) of an `XCLAIM` command `command` whose reply claimed nothing; undefined for any other. */
function unclaimed(command: Array<string | Buffer | number>, reply: unknown, prefix: number): string | undefined {
  if (command[0] !== 'XCLAIM' || !Array.isArray(reply) || reply.length > 0) return undefined;
  return (command[1] as Buffer).subarray(prefix).toString('latin1');
}

/**
 * A Redis (or Redis Cluster) restore target.
 *
 * @example
 * await restore({ backup: { storage, id }, target: redisTarget({ client: redis }) });
 * @throws {ConfigurationError} a missing client or an option out of range
 */
export function redisTarget(options: RedisTargetOptions): RestoreTarget {
  checkKnownKeys('redisTarget', '', options, keysOf<RedisTargetOptions>({ client: true, keyPrefix: true, batchSize: true, connectTimeoutMs: true }));
  if (options === null || typeof options !== 'object' || !options.client) invalidOption('redisTarget', 'client', 'an ioredis Redis or Cluster, or a function giving one', options?.client);
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
      const client = await resolveClient(options.client);
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
      const client = await resolveClient(options.client);
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
      const client = await resolveClient(options.client);
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
      if (prefix === '') return;
      const client = await resolveClient(options.client);
      // A key that fails to unlink is an error (the drill reports it; its marker stays, for the next drill).
      await unlinkUnder(client, prefix, patternsOf(manifest), signal, isBookkeepingKey);
      await client.call('DEL', scratchMarkerKey(prefix));
    },

    // The lock is read first by every call (restoreStatus, the restores' checkFree): a bounded PING before it.
    lock: redisLockPlace(() => resolveClient(options.client), prefix, (c) => pingWithin(c, connectTimeoutMs)),

    // The drill marker (redis-scratch.ts): kept only under a scratch prefix.
    ...(prefix === ''
      ? {}
      : {
          scratchCollections: (manifest: Manifest) => patternsOf(manifest),
          markScratch: async (marker: ScratchMarker) => writeRedisScratchMarker(await resolveClient(options.client), prefix, marker),
          readScratchMarker: async () => readRedisScratchMarker(await resolveClient(options.client), prefix),
          clearScratch: async (marker: ScratchMarker, signal?: AbortSignal) => clearRedisScratch(await resolveClient(options.client), prefix, marker, signal, isBookkeepingKey),
        }),
  };
}
