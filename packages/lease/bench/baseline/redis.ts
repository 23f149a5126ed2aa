// Baseline for bench/lease.bench.ts only: @steadyfn/idempotency's store before it was rebuilt on @steadyfn/lease,
// as it was on main at 05c2c0e (git show 05c2c0e:packages/idempotency/src/stores/redis.ts). Not shipped.
/**
 * Redis and Redis Cluster through ioredis.
 *
 * One value per key: `p|<owner>|<leaseUntil>|<fingerprint>` while running (expiring with the
 * lease, so a crashed holder's record simply disappears), `c|<expiresAt>|<fingerprint>|<result>`
 * when done (expiring with the TTL).
 *
 *   claim     SET key value PX lease NX GET     one command: claims, or returns the live record
 *   complete  Lua: GET, compare owner, SET      atomic, only by the record's owner
 *   release   Lua: GET, compare owner, DEL      never deletes a record another attempt holds
 *   batches   one Lua call per batch (per cluster slot)
 *
 * Works on Redis Cluster: every single-record command touches one key; batch scripts are
 * sent per slot, or, with `hashTag: 'scope'`, a function's keys share one slot and a whole
 * batch is one call.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord } from './types.js';

/**
 * The client the store calls: an ioredis `Redis` or `Cluster`. Structural, so the package's
 * types do not import `ioredis`: a user of the MongoDB store needs no Redis types installed.
 */
export interface RedisClient {
  readonly isCluster: boolean;
  set(...args: any[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  evalsha(...args: any[]): Promise<unknown>;
  eval(...args: any[]): Promise<unknown>;
}

/** What the store works with internally. */
type IoRedis = Redis | Cluster;

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster`, or a function returning one (e.g. a cached connection getter). */
  client: RedisClient | (() => RedisClient | Promise<RedisClient>);
  /** Prepended to every key. Default `'idem:'`. */
  prefix?: string;
  /**
   * `'scope'` wraps the function's scope in a hash tag (`idem:{scope}:id`) so all of one
   * function's records live in one cluster slot and a batch is always one call. Default
   * `false`: records spread over the cluster, and a batch costs one call per slot touched.
   */
  hashTag?: 'scope' | false;
}

// Claim several keys: the live value for each key that has one, nil where we claimed it.
const CLAIM_SCRIPT = `local out = {}
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    out[i] = v
  else
    redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ARGV[2 * i])
    out[i] = false
  end
end
return out`;

// Complete (new value given) or release (empty value) each key whose value still starts with
// the caller's owner prefix; 1 where it did, 0 where the record is gone or someone else's.
const SETTLE_SCRIPT = `local out = {}
for i = 1, #KEYS do
  local prefix = ARGV[3 * i - 2]
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 1, #prefix) == prefix then
    local value = ARGV[3 * i - 1]
    if value == '' then
      redis.call('DEL', KEYS[i])
    else
      redis.call('SET', KEYS[i], value, 'PX', ARGV[3 * i])
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const CLAIM = script(CLAIM_SCRIPT);
const SETTLE = script(SETTLE_SCRIPT);

const TOKEN = /^[A-Za-z0-9_-]+$/;

function checkToken(value: string, field: string): void {
  if (!TOKEN.test(value)) throw new TypeError(`redisStore: ${field} must be base64url text`);
}

function px(until: number, now: number): number {
  return Math.max(1, Math.ceil(until - now));
}

function inProgressValue(request: ClaimRequest): string {
  checkToken(request.owner, 'owner');
  checkToken(request.fingerprint, 'fingerprint');
  return `p|${request.owner}|${request.leaseUntil}|${request.fingerprint}`;
}

function completedValue(request: CompleteRequest): string {
  checkToken(request.fingerprint, 'fingerprint');
  return `c|${request.expiresAt}|${request.fingerprint}|${request.result}`;
}

function ownerPrefix(owner: string): string {
  checkToken(owner, 'owner');
  return `p|${owner}|`;
}

/** Parses a stored value; undefined for anything this store did not write. */
export function decodeRedisValue(value: string): StoredRecord | undefined {
  const first = value.indexOf('|');
  const second = first < 0 ? -1 : value.indexOf('|', first + 1);
  const third = second < 0 ? -1 : value.indexOf('|', second + 1);
  const tag = value.slice(0, first);
  if (tag === 'p' && second > 0) {
    const leaseUntil = Number(value.slice(second + 1, third < 0 ? undefined : third));
    const fingerprint = third < 0 ? '' : value.slice(third + 1);
    return Number.isFinite(leaseUntil) ? { status: 'in_progress', fingerprint, leaseUntil } : undefined;
  }
  if (tag === 'c' && third > 0) {
    const expiresAt = Number(value.slice(first + 1, second));
    return Number.isFinite(expiresAt) ? { status: 'completed', expiresAt, fingerprint: value.slice(second + 1, third), result: value.slice(third + 1) } : undefined;
  }
  return undefined;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

/** The Redis Cluster slot of a key (CRC16/XMODEM of the hash tag or the key, mod 16384). */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) crc = ((crc << 8) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!) & 0xffff;
  return crc & 16383;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function isSyntaxError(error: unknown): boolean {
  return error instanceof Error && /syntax error/i.test(error.message);
}

export function redisStore(options: RedisStoreOptions): IdempotencyStore {
  const prefix = options.prefix ?? 'idem:';
  const tagScope = options.hashTag === 'scope';
  const getClient = typeof options.client === 'function' ? options.client : undefined;
  const fixedClient = typeof options.client === 'function' ? undefined : options.client;
  // Redis < 7 refuses SET with both NX and GET; such servers claim through the Lua script.
  let setNxGet = true;

  const client = async (): Promise<IoRedis> => (fixedClient ?? (await getClient!())) as IoRedis;

  const redisKey = (key: string): string => {
    if (!tagScope) return prefix + key;
    const colon = key.indexOf(':');
    return colon > 0 ? `${prefix}{${key.slice(0, colon)}}${key.slice(colon)}` : `${prefix}{${key}}`;
  };

  const evalScript = async (c: IoRedis, s: Script, keys: string[], args: Array<string | number>): Promise<unknown[]> => {
    try {
      return (await c.evalsha(s.sha, keys.length, ...keys, ...args)) as unknown[];
    } catch (error) {
      if (!isNoScript(error)) throw error;
      // EVAL also caches the script, so the next EVALSHA finds it.
      return (await c.eval(s.source, keys.length, ...keys, ...args)) as unknown[];
    }
  };

  /**
   * Runs a script over many keys: one call on a single server, one call per slot on a
   * cluster (scripts may only touch keys of one slot), sent together.
   */
  const runMany = async <T>(s: Script, keys: string[], argsPerKey: Array<Array<string | number>>, read: (reply: unknown) => T): Promise<T[]> => {
    // No await for a fixed client: the duplicate path stays one promise shorter.
    const c = (fixedClient ?? (await getClient!())) as IoRedis;
    if (!c.isCluster) {
      const replies = await evalScript(c, s, keys, argsPerKey.flat());
      return keys.map((_, i) => read(replies[i]));
    }
    const groups = new Map<number, number[]>();
    keys.forEach((key, i) => {
      const slot = clusterSlot(key);
      const group = groups.get(slot);
      if (group) group.push(i);
      else groups.set(slot, [i]);
    });
    const out = new Array<T>(keys.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const replies = await evalScript(
          c,
          s,
          indexes.map((i) => keys[i]!),
          indexes.flatMap((i) => argsPerKey[i]!),
        );
        indexes.forEach((index, j) => {
          out[index] = read(replies[j]);
        });
      }),
    );
    return out;
  };

  const claimReply = (reply: unknown): ClaimResult => {
    if (reply === null || reply === undefined) return { claimed: true };
    const record = decodeRedisValue(String(reply));
    // A value this store cannot read is treated as someone else's running claim, never overwritten.
    return { claimed: false, record: record ?? { status: 'in_progress', fingerprint: '', leaseUntil: Date.now() } };
  };

  const settleArgs = (request: CompleteRequest | ReleaseRequest, now: number): Array<string | number> =>
    isCompleteRequest(request) ? [ownerPrefix(request.owner), completedValue(request), px(request.expiresAt, now)] : [ownerPrefix(request.owner), '', 0];

  const claimMany = (requests: ReadonlyArray<ClaimRequest>): Promise<ClaimResult[]> => {
    const now = Date.now();
    return runMany(
      CLAIM,
      requests.map((r) => redisKey(r.key)),
      requests.map((r) => [inProgressValue(r), px(r.leaseUntil, now)]),
      claimReply,
    );
  };

  const settleMany = (requests: ReadonlyArray<CompleteRequest | ReleaseRequest>): Promise<boolean[]> => {
    const now = Date.now();
    return runMany(
      SETTLE,
      requests.map((r) => redisKey(r.key)),
      requests.map((r) => settleArgs(r, now)),
      (reply) => Number(reply) === 1,
    );
  };

  return {
    async claim(request) {
      const value = inProgressValue(request);
      const c = (fixedClient ?? (await getClient!())) as IoRedis;
      if (setNxGet) {
        try {
          return claimReply(await c.set(redisKey(request.key), value, 'PX', px(request.leaseUntil, Date.now()), 'NX', 'GET'));
        } catch (error) {
          if (!isSyntaxError(error)) throw error;
          setNxGet = false;
        }
      }
      return (await claimMany([request]))[0]!;
    },
    claimMany,
    async complete(request) {
      return (await settleMany([request]))[0]!;
    },
    async release(request) {
      return (await settleMany([request]))[0]!;
    },
    completeMany: settleMany,
    async get(key) {
      const value = await (await client()).get(redisKey(key));
      return value === null ? undefined : decodeRedisValue(value);
    },
  };
}
