/**
 * What keeps a big key's chunked export true to one moment, across reads and across resumes:
 *
 * - A big list or string is read by offset (`LRANGE`, `GETRANGE`), chunk after chunk, at
 *   different moments: an `LPOP` between two reads shifts every offset (entries missed, entries
 *   already consumed kept), a `SET` gives a value part old, part new. So it is first copied —
 *   `COPY key <copy>` and `PEXPIRE <copy>` in one `MULTI` (Redis ≥ 6.2) — and read from the copy,
 *   which the resume point names, so a later run reads on from the same copy; it is deleted after
 *   the last chunk and expires after `COPY_TTL_MS` otherwise. On a Cluster the copy's name holds
 *   the key's hash tag, or the key itself as the tag, so it is in the key's slot (`MULTI` and
 *   `COPY` need one slot). Where `COPY` is refused (an older server, a read-only replica, an ACL,
 *   a renamed command) or no name in the key's slot exists (a key with `}` and no hash tag), the
 *   key is read as before, and the backup's warnings say so. A copy is made only with memory
 *   headroom under `maxmemory` (`copyFits`); `OOM` is a refusal; each chunk read from a copy
 *   checks it exists and renews its TTL in one `MULTI` (redis-typed.ts `fromCopy`): one gone fails
 *   the run, retryably, never read as the value's end.
 * - A key cut short by a deadline whose type changed (or whose copy is gone) before the next run
 *   is exported again from chunk 0; one that no longer exists gets a record that deletes it. That
 *   record carries what the key's earlier records added (`r`, format/records.ts), so the backup's
 *   content hash and a drill compare the key as it was read last.
 */
import { randomBytes } from 'node:crypto';
import { ContentHash } from '../format/content-hash.js';
import { keysCounted, ownDigest, parseRedisRecord } from '../format/records.js';
import type { RedisLike } from './redis.js';
import { encodeBytes } from './redis-values.js';

/** How long a point-in-time copy lives when no run deletes it (ms): a resume within it reads on from it. */
export const COPY_TTL_MS = 3_600_000;

/** The start of every copy's name: such keys are never backed up. */
const COPY_PREFIX = Buffer.from('steadyfn:backup-copy:');

/** True for a point-in-time copy this source made (left out of every scan). */
export function isCopyKey(key: Buffer): boolean {
  return key.length > COPY_PREFIX.length && key.subarray(0, COPY_PREFIX.length).equals(COPY_PREFIX);
}

/** A key's hash tag (the bytes between its first `{` and the next `}`, when not empty). */
function hashTag(key: Buffer): Buffer | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.subarray(open + 1, close) : undefined;
}

/**
 * A fresh name for a copy of `key`: `steadyfn:backup-copy:<random>:` then the key, or on a
 * Cluster, in the key's slot, `{<tag>}` with its hash tag, else `{<key>}` (the same slot when
 * the key holds no `}`); undefined when neither works.
 */
export function copyNameFor(key: Buffer, clustered: boolean): Buffer | undefined {
  const base = Buffer.from(`${COPY_PREFIX.toString()}${randomBytes(8).toString('hex')}`);
  // The key's name after the random part tells whose copy it is (an operator looking at memory).
  if (!clustered) return Buffer.concat([base, Buffer.from(':'), key]);
  const tag = hashTag(key) ?? (key.includes('}') ? undefined : key);
  return tag === undefined ? undefined : Buffer.concat([base, Buffer.from(':{'), tag, Buffer.from('}')]);
}

/** Whether a key of `type` and `size` needs a copy: read in more than one offset read (a list or string). */
export function needsCopy(type: string, size: number, limits: { chunkElements: number; chunkBytes: number }): boolean {
  return (type === 'list' && size > limits.chunkElements) || (type === 'string' && size >= limits.chunkBytes);
}

/** The server refusing `COPY` itself (unknown or renamed, an ACL, a read-only replica), not failing. */
function copyRefused(message: string): boolean {
  return /^(NOPERM|READONLY|OOM)\b/.test(message) || /^ERR unknown command\b/i.test(message) || /^EXECABORT\b/.test(message);
}

/** Why `COPY` was refused, for the warnings (never the key or a value). */
function refusal(message: string): string {
  if (/^NOPERM\b/.test(message)) return 'COPY refused by an ACL (NOPERM)';
  if (/^READONLY\b/.test(message)) return 'a read-only replica (READONLY)';
  if (/^OOM\b/.test(message)) return 'no memory for a point-in-time copy (OOM)';
  return 'COPY unknown: Redis before 6.2, or renamed or disabled (ERR)';
}

/** The warning's reason when a copy would not fit under `maxmemory`. */
export const NO_HEADROOM = 'no memory headroom for a point-in-time copy';

/**
 * Whether a copy of `key` fits: with `maxmemory` set (`INFO memory`), only when `used_memory`
 * plus twice the key's `MEMORY USAGE` (sampled: the margin covers the estimate) stays below it,
 * so a copy never makes Redis evict user keys (an `allkeys-*` policy), evict the copy itself
 * (the only key with a TTL, under `volatile-*`) or refuse writes (`noeviction`). `INFO` or
 * `MEMORY USAGE` refused (an ACL) or unreadable counts as no room: the key is read directly.
 */
export async function copyFits(node: RedisLike, key: Buffer): Promise<boolean> {
  try {
    const info = String(await node.call('INFO', 'memory'));
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)\\s*$`, 'm').exec(info)?.[1] ?? NaN);
    const max = field('maxmemory');
    if (max === 0) return true;
    const used = field('used_memory');
    const size = Number(await node.callBuffer('MEMORY', 'USAGE', key));
    return Number.isFinite(max) && Number.isFinite(used) && Number.isFinite(size) && used + 2 * size < max;
  } catch {
    return false;
  }
}

/**
 * Copies `key` to `name` with a TTL, in one transaction. `copied`; `gone` (the key no longer
 * exists); or `refused` with the server's first word (the caller reads the key itself).
 * @throws what the server answered for any other reason (a lost connection)
 */
export async function copyKey(node: RedisLike, key: Buffer, name: Buffer): Promise<{ result: 'copied' } | { result: 'gone' } | { result: 'refused'; reason: string }> {
  const pipeline = node.pipeline();
  pipeline.call('MULTI');
  pipeline.callBuffer('COPY', key, name);
  pipeline.callBuffer('PEXPIRE', name, COPY_TTL_MS);
  pipeline.call('EXEC');
  const answers = (await pipeline.exec()) ?? [];
  const failed = answers.map(([error]) => error).find((error): error is Error => error instanceof Error);
  const replies = answers[3]?.[1];
  const inner = Array.isArray(replies) ? replies.find((reply): reply is Error => reply instanceof Error) : undefined;
  const error = failed ?? inner;
  if (error) {
    if (copyRefused(error.message)) return { result: 'refused', reason: refusal(error.message) };
    throw error;
  }
  return Array.isArray(replies) && Number(replies[0]) === 1 ? { result: 'copied' as const } : { result: 'gone' as const };
}

/** Whether the copy `name` still exists with `type` (its TTL renewed when it does). */
export async function copyAlive(node: RedisLike, name: Buffer, type: string): Promise<boolean> {
  const pipeline = node.pipeline();
  pipeline.callBuffer('TYPE', name);
  pipeline.callBuffer('PEXPIRE', name, COPY_TTL_MS);
  const answers = (await pipeline.exec()) ?? [];
  return String(answers[0]?.[1] ?? 'none') === type && Number(answers[1]?.[1]) === 1;
}

/** Deletes a copy once read (it expires anyway). */
export async function dropCopy(node: RedisLike, name: Buffer): Promise<void> {
  await node.callBuffer('UNLINK', name);
}

/** What a key's records in the backup so far add, per expiry: what a record that replaces them carries (`r`). */
export class KeyStanding {
  private readonly byTtl = new Map<number, { hash: ContentHash; n: number }>();

  /** Adds one of the key's lines (in the order written). */
  add(line: string): void {
    const record = parseRedisRecord(line);
    this.at(record.ttl, ownDigest(record), keysCounted(record));
    for (const earlier of record.r ?? []) this.at(earlier.ttl, new ContentHash().subtract(Buffer.from(earlier.h, 'hex')), -earlier.n);
  }

  private at(ttl: number, digest: ContentHash, n: number): void {
    const slot = this.byTtl.get(ttl) ?? { hash: new ContentHash(), n: 0 };
    slot.hash.merge(digest);
    slot.n += n;
    this.byTtl.set(ttl, slot);
  }

  /** The `r` entries (none left when the key's records added nothing). */
  entries(): Array<{ ttl: number; h: string; n: number }> {
    const zero = new ContentHash().toHex();
    return [...this.byTtl].map(([ttl, s]) => ({ ttl, h: s.hash.toHex(), n: s.n })).filter((e) => e.n !== 0 || e.h !== zero);
  }
}

/** `line` (a record's JSON) and its digest, now replacing `earlier` records of its key. */
export function replacing(line: string, digest: Uint8Array, earlier: Array<{ ttl: number; h: string; n: number }>): { line: string; digest: Uint8Array } {
  if (earlier.length === 0) return { line, digest };
  const sum = new ContentHash().add(digest);
  for (const e of earlier) sum.subtract(Buffer.from(e.h, 'hex'));
  return { line: `${line.slice(0, -1)},"r":${JSON.stringify(earlier)}}`, digest: sum.toBytes() };
}

/** The record that deletes `key` (gone since its earlier records were written): a chunk 0 with no elements. */
export function deletedLine(key: Buffer): string {
  // A string's chunk 0 with no elements restores as `DEL` alone (records.ts `keysCounted`: 0 keys).
  return JSON.stringify({ k: encodeBytes(key), t: 'string', ttl: -1, c: 0, v: [] });
}
