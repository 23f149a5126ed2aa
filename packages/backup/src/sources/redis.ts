/**
 * Redis snapshot source: a keyspace by pattern, `SCAN`ned on every master of a Cluster, each
 * key written as its `DUMP` payload with an absolute expiry from `PTTL` (restored with
 * `RESTORE … ABSTTL REPLACE`), or — for big keys, or for every key when the restore target's
 * RDB version differs — as typed JSON in chunks (`GETRANGE`, `HSCAN`, `SSCAN`, `ZSCAN`,
 * `LRANGE`, `XRANGE`) so no single command holds a huge value — a big list or string from a
 * point-in-time `COPY` (redis-big-key.ts). No `BGSAVE` (managed Redis forbids it). A scan is
 * not a point-in-time snapshot: the backup is fuzzy.
 *
 * https://redis.io/docs/latest/commands/scan/ , /dump/ , /restore/
 */
import { checkKnownKeys, intOption, invalidOption, oneOfOption, stringOption, keysOf } from '@steadyfn/handler/internal';
import type { DatasetInfo, SnapshotSource } from './types.js';
import type { ClientInput } from './types.js';
import { resolveRedis, unprefixedRedis } from './redis-unprefixed.js';
import { rdbVersionOf } from './redis-values.js';
import type { TypedExportLimits } from './redis-typed.js';
import { scanKeyspace } from './redis-scan.js';
import { mastersOf, topologyOf } from './redis-topology.js';
import { serverFacts, type ServerFacts } from './redis-server-info.js';

/** The part of an ioredis pipeline this package uses. */
export interface RedisPipelineLike {
  callBuffer(command: string, ...args: Array<string | Buffer | number>): unknown;
  call(command: string, ...args: Array<string | Buffer | number>): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** The part of an ioredis `Redis` or `Cluster` this package uses. */
export interface RedisLike {
  callBuffer(command: string, ...args: Array<string | Buffer | number>): Promise<unknown>;
  call(command: string, ...args: Array<string | Buffer | number>): Promise<unknown>;
  pipeline(): RedisPipelineLike;
  /** Present on a Cluster: its master nodes. */
  nodes?(role?: 'master' | 'slave' | 'all'): RedisLike[];
  /** ioredis options (a node's `host` and `port` name it in checkpoints). */
  options?: unknown;
}

/** Options of `redisSource()`. */
export interface RedisSourceOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a function giving one. Without the ioredis `keyPrefix`
   * option (ioredis does not prefix `SCAN` patterns): a prefixed client is refused
   * (`ConfigurationError`, code `REDIS_CLIENT_KEY_PREFIX`); match its keys with `pattern` instead.
   */
  client: ClientInput<RedisLike>;
  /**
   * `SCAN … MATCH` pattern. Whatever it matches, the restore locks and partial-restore markers a
   * restore writes into a Redis target (`steadyfn:restore-lock:<keyPrefix>`,
   * `steadyfn:restore-marker:<keyPrefix>`) and the marker a drill writes for its scratch
   * prefix (`steadyfn:drill-marker:<keyPrefix>`), `~` in front when the prefix would start them,
   * are skipped: never in the backup. @default '*'
   */
  pattern?: string;
  /** `SCAN … COUNT` hint. @default 500 */
  scanCount?: number;
  /** A string longer than this, or a collection with more elements than `bigKeyElements`, is exported typed in chunks. @default 8 MiB */
  bigKeyBytes?: number;
  /** @default 10000 */
  bigKeyElements?: number;
  /** Elements per chunk of a typed export. @default 1000 */
  chunkElements?: number;
  /** Bytes per chunk of a big string. @default 1 MiB */
  chunkBytes?: number;
  /**
   * `auto`: DUMP payloads, typed chunks for big keys. `typed`: every key typed (restorable on
   * any Redis-compatible server). @default 'auto'
   */
  encoding?: 'auto' | 'typed';
  /**
   * The RDB version of the server you will restore to (Redis 7.0: 10, 7.2: 11, 7.4/8: 12).
   * When the source's differs, every key is exported typed: a DUMP payload is only readable by
   * a server of the same or a newer RDB version.
   */
  targetRdbVersion?: number;
  /**
   * @internal Drills read a restored copy under a scratch prefix: digests are computed without
   * it, so they equal the backup's.
   */
  digestWithoutPrefix?: string;
}

const REDIS_SOURCE_KEYS = keysOf<RedisSourceOptions>({
  client: true,
  pattern: true,
  scanCount: true,
  bigKeyBytes: true,
  bigKeyElements: true,
  chunkElements: true,
  chunkBytes: true,
  encoding: true,
  targetRdbVersion: true,
  digestWithoutPrefix: true,
});

/**
 * The RDB version of the server, from a DUMP of any key (undefined for an empty keyspace). Any
 * key, not one matching the pattern: the DUMP format is the server's, and on a large keyspace
 * a narrow pattern may match nothing in the first thousands of keys SCAN walks — the version
 * was then missing from the manifest, and a restore to an older server was not refused before
 * its first write.
 */
async function sampleRdbVersion(masters: RedisLike[]): Promise<number | undefined> {
  for (const node of masters) {
    let cursor = '0';
    for (let i = 0; i < 20; i++) {
      const [next, keys] = (await node.callBuffer('SCAN', cursor, 'COUNT', 100)) as [Buffer, Buffer[]];
      for (const key of keys) {
        // Gone since the SCAN (expired, deleted): try the next one.
        const payload = (await node.callBuffer('DUMP', key)) as Buffer | null;
        if (payload) return rdbVersionOf(payload);
      }
      cursor = next.toString();
      if (cursor === '0') break;
    }
  }
  return undefined;
}

/**
 * What a backup says when the source refused `INFO`: the version read from `HELLO` (or not at
 * all, `SOURCE_VERSION_UNKNOWN`), and that without `run_id` a restart of the server between the
 * invocations of a resumed backup is not detected.
 */
function serverWarnings(facts: ServerFacts): string[] {
  if (facts.via === 'INFO') return [];
  const restart = "the server's run_id was not read, so a restart between the invocations of a resumed backup is not detected";
  if (facts.via === 'HELLO') return [`the source refused INFO (an ACL): its version ${facts.version} was read from HELLO; ${restart}`];
  return [`the source refused INFO and HELLO (an ACL): its Redis version is unknown (serverVersion 'unknown'; a restore cannot check it) and ${restart} (SOURCE_VERSION_UNKNOWN)`];
}

/**
 * Backs up a Redis keyspace. A key of a type without a value reader (a module type: `ReJSON-RL`,
 * a Bloom filter, a time series) is saved by its `DUMP` payload alone, also in a typed backup,
 * and restored by `RESTORE` (the target needs the same modules); the manifest's `warnings` count
 * them by type. A key rewritten with another type while it is read is read again (5 times at
 * most, then the run fails with a retryable `SourceReadError`); only a key that no longer exists
 * is left out ("expired or were deleted between SCAN and DUMP"). A big list or string (more
 * than `chunkElements` entries, from `chunkBytes` bytes) is read from a point-in-time copy
 * (`COPY` to `steadyfn:backup-copy:…`, in its Cluster slot, deleted once read, one hour TTL);
 * where `COPY` is refused (Redis before 6.2, a replica, an ACL) it is read from the key itself,
 * and the manifest's `warnings` count such keys. A source whose ACL refuses `INFO` is backed up too: its version is
 * read from `HELLO`, and the manifest's `warnings` say what could not be read (`run_id`; the
 * version as well, `SOURCE_VERSION_UNKNOWN`, when `HELLO` is refused too).
 *
 * @example
 * const source = redisSource({ client: cluster, pattern: 'session:*' });
 * @throws {ConfigurationError} a missing client or an option out of range; a client with an ioredis
 * `keyPrefix` (code `REDIS_CLIENT_KEY_PREFIX`: ioredis does not prefix `SCAN` patterns), now or,
 * from a getter, when the backup runs
 */
export function redisSource(options: RedisSourceOptions): SnapshotSource {
  checkKnownKeys('redisSource', '', options, REDIS_SOURCE_KEYS);
  if (options === null || typeof options !== 'object' || options.client === undefined || options.client === null) invalidOption('redisSource', 'client', 'an ioredis Redis or Cluster, or a function giving one', options?.client);
  // A client given directly is checked now; one from a getter when it is got (every use).
  if (typeof options.client !== 'function') unprefixedRedis('redisSource', options.client);
  const pattern = stringOption('redisSource', 'pattern', options.pattern, '*');
  const scanCount = intOption('redisSource', 'scanCount', options.scanCount, 500, 1, 100_000);
  const limits: TypedExportLimits = {
    bigKeyBytes: intOption('redisSource', 'bigKeyBytes', options.bigKeyBytes, 8 * 1024 * 1024, 1),
    bigKeyElements: intOption('redisSource', 'bigKeyElements', options.bigKeyElements, 10_000, 1),
    chunkElements: intOption('redisSource', 'chunkElements', options.chunkElements, 1000, 1, 100_000),
    chunkBytes: intOption('redisSource', 'chunkBytes', options.chunkBytes, 1024 * 1024, 1024),
  };
  const encoding = oneOfOption('redisSource', 'encoding', options.encoding, ['auto', 'typed'] as const, 'auto');
  const targetRdb = options.targetRdbVersion === undefined ? undefined : intOption('redisSource', 'targetRdbVersion', options.targetRdbVersion, 0, 1, 1000);
  let expiredDuringBackup = 0;
  let repeats = 0;
  // Keys of types without a value reader (module types), by type: in the backup as DUMP payloads only.
  const dumpOnly = new Map<string, number>();
  // Big lists and strings read without a point-in-time copy, by why (redis-big-key.ts).
  const noCopy = new Map<string, number>();
  const strip = Buffer.byteLength(options.digestWithoutPrefix ?? '');

  return {
    kind: 'redis',

    async describe() {
      const client = await resolveRedis('redisSource', options.client);
      const masters = await mastersOf(client);
      // An ACL refusing INFO no longer fails the backup: the version comes from HELLO, and what
      // could not be read is said in the manifest's warnings (and the run's report).
      const facts = await serverFacts(masters[0]!);
      const version = facts.version ?? 'unknown';
      const engine = facts.engine;
      const rdbVersion = await sampleRdbVersion(masters);
      const warnings: string[] = [...serverWarnings(facts)];
      let allTyped = encoding === 'typed';
      if (targetRdb !== undefined && rdbVersion !== undefined && rdbVersion !== targetRdb) {
        allTyped = true;
        warnings.push(`source RDB version ${rdbVersion} differs from targetRdbVersion ${targetRdb}: every key exported as typed JSON`);
      }
      const dataset: DatasetInfo = {
        name: `keyspace:${pattern}`,
        kind: 'redis-keyspace',
        encoding: allTyped ? 'typed' : 'mixed',
        // The servers and slots a resume depends on (checked by every later invocation).
        options: { pattern, ...limits, allTyped, topology: await topologyOf(client, masters) },
      };
      return {
        kind: 'redis',
        engine,
        serverVersion: version,
        ...(rdbVersion === undefined ? {} : { rdbVersion }),
        cluster: typeof client.nodes === 'function',
        datasets: [dataset],
        warnings,
      };
    },

    async serverTime() {
      const client = await resolveRedis('redisSource', options.client);
      const [seconds, micros] = (await (await mastersOf(client))[0]!.call('TIME')) as [string, string];
      return new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)).toISOString();
    },

    async *read(dataset, resume, signal, history) {
      const topology = dataset.options?.topology;
      yield* scanKeyspace(
        {
          client: await resolveRedis('redisSource', options.client),
          pattern,
          scanCount,
          limits,
          allTyped: dataset.options?.allTyped === true,
          ...(Array.isArray(topology) ? { topology: topology.map(String) } : {}),
          strip,
          onExpired: () => void expiredDuringBackup++,
          onRepeat: () => void repeats++,
          onDumpOnly: (type) => void dumpOnly.set(type, (dumpOnly.get(type) ?? 0) + 1),
          onNoCopy: (reason) => void noCopy.set(reason, (noCopy.get(reason) ?? 0) + 1),
          ...(signal ? { signal } : {}),
        },
        resume,
        history,
      );
    },

    async owns(description) {
      return description.kind === 'redis' && description.datasets.length === 1 && description.datasets[0]!.name === `keyspace:${pattern}`;
    },

    notes() {
      const out: string[] = [];
      if (expiredDuringBackup > 0) out.push(`${expiredDuringBackup} keys expired or were deleted between SCAN and DUMP (not in the backup)`);
      if (dumpOnly.size > 0) {
        const types = [...dumpOnly].map(([type, n]) => `${type}: ${n}`).join(', ');
        out.push(`${[...dumpOnly.values()].reduce((a, b) => a + b, 0)} keys of types without a typed reader (${types}) are in the backup as DUMP payloads only: a restore writes them with RESTORE and needs a server with the same modules (and an RDB version it reads, also for a typed backup)`);
      }
      if (noCopy.size > 0) {
        const why = [...noCopy].map(([reason, n]) => `${reason}: ${n}`).join(', ');
        out.push(`${[...noCopy.values()].reduce((a, b) => a + b, 0)} big lists or strings were read chunk by chunk from the key itself, not from a point-in-time copy (COPY refused or impossible: ${why}): a write between two of its chunks shows in the backup (entries missed or kept twice, a value part old, part new)`);
      }
      if (repeats > 0) out.push(`SCAN returned ${repeats} keys again (the server rehashed, or a resume scanned a batch again): each is in the backup once`);
      return out;
    },
  };
}

