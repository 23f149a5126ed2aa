/**
 * Redis snapshot source: a keyspace by pattern, `SCAN`ned on every master of a Cluster, each
 * key written as its `DUMP` payload with an absolute expiry from `PTTL` (restored with
 * `RESTORE … ABSTTL REPLACE`), or — for big keys, or for every key when the restore target's
 * RDB version differs — as typed JSON in chunks (`GETRANGE`, `HSCAN`, `SSCAN`, `ZSCAN`,
 * `LRANGE`, `XRANGE`) so no single command holds a huge value. No `BGSAVE` (managed Redis
 * forbids it). A scan is not a point-in-time snapshot: the backup is fuzzy.
 *
 * https://redis.io/docs/latest/commands/scan/ , /dump/ , /restore/
 */
import { createHash } from 'node:crypto';
import { intOption, invalidOption, oneOfOption, stringOption } from '@steadyfn/handler/internal';
import type { DatasetInfo, SnapshotRecord, SnapshotSource } from './types.js';
import { resolveClient, type ClientInput } from './types.js';
import { encodeBytes, rdbVersionOf } from './redis-values.js';
import { WHOLE_VALUE, exportTyped, valueDigest, type TypedExportLimits } from './redis-typed.js';

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
  /** An ioredis `Redis` or `Cluster`, or a function giving one. */
  client: ClientInput<RedisLike>;
  /** `SCAN … MATCH` pattern. @default '*' */
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

interface NodeResume {
  node: number;
  address: string;
  /** The SCAN cursor that began the batch holding `after`. */
  cursor: string;
  /** Encoded key: the batch's keys up to and including it are done. */
  after: string;
  /** Inside a big key being exported in chunks: resume after this chunk. */
  inner?: { key: string; position: string; chunk: number };
}

function addressOf(client: RedisLike, index: number): string {
  const options = client.options as { host?: string; port?: number } | undefined;
  return options?.host !== undefined ? `${options.host}:${options.port ?? 6379}` : `node${index}`;
}

function keyId(key: Buffer): string {
  return JSON.stringify(encodeBytes(key));
}

/** The masters to scan, in a stable order. */
async function mastersOf(client: RedisLike): Promise<RedisLike[]> {
  if (typeof client.nodes !== 'function') return [client];
  const nodes = client.nodes('master');
  return [...nodes].sort((a, b) => addressOf(a, 0).localeCompare(addressOf(b, 0)));
}

/** The RDB version of the server, from a DUMP of one key matching the pattern (undefined for an empty keyspace). */
async function sampleRdbVersion(masters: RedisLike[], pattern: string): Promise<number | undefined> {
  for (const node of masters) {
    let cursor = '0';
    for (let i = 0; i < 20; i++) {
      const [next, keys] = (await node.callBuffer('SCAN', cursor, 'MATCH', pattern, 'COUNT', 100)) as [Buffer, Buffer[]];
      for (const key of keys) {
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
 * Backs up a Redis keyspace.
 *
 * @example
 * const source = redisSource({ client: cluster, pattern: 'session:*' });
 * @throws {ConfigurationError} a missing client or an option out of range
 */
export function redisSource(options: RedisSourceOptions): SnapshotSource {
  if (options === null || typeof options !== 'object' || options.client === undefined || options.client === null) invalidOption('redisSource', 'client', 'an ioredis Redis or Cluster, or a function giving one', options?.client);
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
  const strip = Buffer.byteLength(options.digestWithoutPrefix ?? '');

  return {
    kind: 'redis',

    async describe() {
      const client = await resolveClient(options.client);
      const masters = await mastersOf(client);
      const info = String(await masters[0]!.call('INFO', 'server'));
      const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
      const engine = /valkey_version:/.test(info) || /server_name:valkey/.test(info) ? 'valkey' : 'redis';
      const rdbVersion = await sampleRdbVersion(masters, pattern);
      const warnings: string[] = [];
      let allTyped = encoding === 'typed';
      if (targetRdb !== undefined && rdbVersion !== undefined && rdbVersion !== targetRdb) {
        allTyped = true;
        warnings.push(`source RDB version ${rdbVersion} differs from targetRdbVersion ${targetRdb}: every key exported as typed JSON`);
      }
      const dataset: DatasetInfo = {
        name: `keyspace:${pattern}`,
        kind: 'redis-keyspace',
        encoding: allTyped ? 'typed' : 'mixed',
        options: { pattern, ...limits, allTyped },
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
      const client = await resolveClient(options.client);
      const [seconds, micros] = (await (await mastersOf(client))[0]!.call('TIME')) as [string, string];
      return new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)).toISOString();
    },

    read(dataset, resume, signal) {
      const allTyped = dataset.options?.allTyped === true;
      return scanKeyspace(options.client, pattern, scanCount, limits, () => allTyped, resume as NodeResume | undefined, () => expiredDuringBackup++, strip, signal);
    },

    notes() {
      return expiredDuringBackup > 0 ? [`${expiredDuringBackup} keys expired or were deleted between SCAN and DUMP (not in the backup)`] : [];
    },
  };
}

async function* scanKeyspace(
  input: ClientInput<RedisLike>,
  pattern: string,
  scanCount: number,
  limits: TypedExportLimits,
  allTyped: () => boolean,
  resume: NodeResume | undefined,
  onExpired: () => void,
  strip: number,
  signal?: AbortSignal,
): AsyncGenerator<SnapshotRecord> {
  const client = await resolveClient(input);
  const masters = await mastersOf(client);
  // SCAN can return a key twice while the server rehashes: drop repeats seen in this run.
  const seen = new Set<string>();
  for (let n = resume?.node ?? 0; n < masters.length; n++) {
    const node = masters[n]!;
    const address = addressOf(node, n);
    const here = resume && resume.node === n ? resume : undefined;
    if (here && here.address !== address) throw new Error(`the cluster's masters changed since the checkpoint (${here.address} is now ${address})`);
    let cursor = here?.cursor ?? '0';
    let skipUntil = here?.after;
    let inner = here?.inner;
    do {
      if (signal?.aborted) throw signal.reason;
      const batchCursor = cursor;
      const [next, found] = (await node.callBuffer('SCAN', cursor, 'MATCH', pattern, 'COUNT', scanCount)) as [Buffer, Buffer[]];
      cursor = next.toString();
      let keys = found;
      let previous = skipUntil ?? '';
      if (skipUntil !== undefined) {
        const at = keys.findIndex((k) => keyId(k) === skipUntil);
        // `after` is the last finished key; a key exported in chunks that was cut short comes next.
        if (at >= 0) keys = keys.slice(at + 1);
        skipUntil = undefined;
      }
      keys = keys.filter((k) => {
        const id = createHash('sha1').update(k).digest('base64');
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      if (keys.length === 0) continue;
      const meta = await keyMeta(node, keys);
      const dumps = await dumpSmallKeys(node, keys, meta, limits, allTyped(), strip);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const { type, expiresAt, size } = meta[i]!;
        const id = keyId(key);
        if (type === 'none') {
          onExpired();
          continue;
        }
        const typed = allTyped() || size > (type === 'string' ? limits.bigKeyBytes : limits.bigKeyElements);
        const base = { node: n, address, cursor: batchCursor };
        if (!typed) {
          const dumped = dumps.get(i);
          if (!dumped) {
            onExpired();
            continue;
          }
          const line = JSON.stringify({ k: encodeBytes(key), t: 'dump', ttl: expiresAt, v: dumped.payload.toString('base64'), h: dumped.digest.toString('hex') });
          yield { key: id, line, digest: dumped.digest, resume: { ...base, after: id } satisfies NodeResume };
        } else {
          const start = inner && inner.key === id ? inner : undefined;
          for await (const chunk of exportTyped(node, key, type, expiresAt, limits, start ? { position: start.position, chunk: start.chunk } : undefined, strip)) {
            const resumeAt: NodeResume = chunk.last ? { ...base, after: id } : { ...base, after: previous, inner: { key: id, position: chunk.position, chunk: chunk.chunk } };
            yield { key: id, line: chunk.line, digest: chunk.digest, resume: resumeAt };
          }
        }
        inner = undefined;
        previous = id;
      }
    } while (cursor !== '0');
    resume = undefined;
  }
}

/**
 * DUMP of every key exported as a payload, with its whole value read in the same pipeline for
 * its content digest (DUMP bytes are not canonical: hash-table order). Keys gone meanwhile are left out.
 */
async function dumpSmallKeys(node: RedisLike, keys: Buffer[], meta: KeyMeta[], limits: TypedExportLimits, allTyped: boolean, strip: number): Promise<Map<number, { payload: Buffer; digest: Buffer }>> {
  const picked: number[] = [];
  const pipeline = node.pipeline();
  keys.forEach((key, i) => {
    const { type, size } = meta[i]!;
    if (type === 'none' || allTyped || size > (type === 'string' ? limits.bigKeyBytes : limits.bigKeyElements) || !WHOLE_VALUE[type]) return;
    picked.push(i);
    pipeline.callBuffer('DUMP', key);
    const [name, ...args] = WHOLE_VALUE[type]!.command;
    pipeline.callBuffer(String(name), key, ...args);
  });
  const out = new Map<number, { payload: Buffer; digest: Buffer }>();
  if (picked.length === 0) return out;
  const answers = (await pipeline.exec()) ?? [];
  picked.forEach((i, n) => {
    const [dumpError, payload] = answers[n * 2] ?? [];
    const [valueError, value] = answers[n * 2 + 1] ?? [];
    if (dumpError || valueError || !payload) return;
    out.set(i, { payload: payload as Buffer, digest: valueDigest(meta[i]!.type, keys[i]!.subarray(strip), value) });
  });
  return out;
}

interface KeyMeta {
  type: string;
  /** Absolute expiry (epoch ms, server clock) or -1 for no expiry. */
  expiresAt: number;
  /** Bytes for a string, elements for a collection. */
  size: number;
}

const SIZE_COMMAND: Record<string, string> = { string: 'STRLEN', hash: 'HLEN', set: 'SCARD', zset: 'ZCARD', list: 'LLEN', stream: 'XLEN' };

/** TYPE, PTTL and size of each key, and the server's clock, in two round trips. */
async function keyMeta(node: RedisLike, keys: Buffer[]): Promise<KeyMeta[]> {
  const first = node.pipeline();
  first.call('TIME');
  for (const key of keys) {
    first.callBuffer('TYPE', key);
    first.call('PTTL', key);
  }
  const answers = (await first.exec()) ?? [];
  const time = answers[0]?.[1] as [string, string] | undefined;
  const now = time ? Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000) : Date.now();
  const types = keys.map((_, i) => String(answers[1 + i * 2]?.[1] ?? 'none'));
  const pttls = keys.map((_, i) => Number(answers[2 + i * 2]?.[1] ?? -2));
  const second = node.pipeline();
  for (let i = 0; i < keys.length; i++) second.call(SIZE_COMMAND[types[i]!] ?? 'EXISTS', keys[i]!);
  const sizes = ((await second.exec()) ?? []).map(([, value]) => Number(value ?? 0));
  return keys.map((_, i) => ({
    type: pttls[i] === -2 ? 'none' : types[i]!,
    expiresAt: pttls[i]! >= 0 ? now + pttls[i]! : -1,
    size: sizes[i] ?? 0,
  }));
}
