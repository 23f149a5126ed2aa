/**
 * The per-batch reads of the keyspace scan (redis-scan.ts): each key's type, expiry and size,
 * then the `DUMP` of every key exported whole, with its value read for its content digest — the
 * two in one `MULTI`/`EXEC` per key, so the digest is of the very value the payload holds (a
 * write between them would give a drill a false difference; one key is one slot, so this holds on
 * a Cluster too). The first reads are not atomic with the DUMP: a key may expire, be deleted or
 * be rewritten with another type in between. The scan tells these apart by reading the key again
 * (`KeyMeta.type` is `'none'` only when the key no longer exists).
 *
 * A key of a type this source has no value reader for — a module type (`ReJSON-RL`, a Bloom
 * filter, a time series…) — is exported by its `DUMP` payload alone and restored by `RESTORE`,
 * which needs the same module on the target. Its digest is that of the payload's bytes.
 */
import type { RedisLike } from './redis.js';
import { elementDigest } from './redis-values.js';
import { WHOLE_VALUE, valueDigest, type TypedExportLimits } from './redis-typed.js';

/** What a batch's first reads say of a key. */
export interface KeyMeta {
  /** The key's `TYPE` (`'none'`: it no longer exists). */
  type: string;
  /** Absolute expiry (epoch ms, server clock) or -1 for no expiry. */
  expiresAt: number;
  /** Bytes for a string, elements for a collection; 1 for a type without a size command. */
  size: number;
}

const SIZE_COMMAND: Record<string, string> = { string: 'STRLEN', hash: 'HLEN', set: 'SCARD', zset: 'ZCARD', list: 'LLEN', stream: 'XLEN' };

/** True for a type the source cannot read element by element (a module type): exported by `DUMP` alone. */
export function isDumpOnly(type: string): boolean {
  return type !== 'none' && WHOLE_VALUE[type] === undefined;
}

/** True when the key is exported by `DUMP` (small enough, not a typed backup, or a module type). */
export function exportsWhole(meta: KeyMeta, limits: TypedExportLimits, allTyped: boolean): boolean {
  if (isDumpOnly(meta.type)) return true;
  return !allTyped && meta.size <= (meta.type === 'string' ? limits.bigKeyBytes : limits.bigKeyElements);
}

/**
 * The content digest of a key exported by `DUMP` alone: of its payload's bytes (a module's
 * serialisation; the same payload is read back from a restored copy on the same server version).
 */
export function dumpDigest(type: string, key: Buffer, payload: Buffer): Buffer {
  return elementDigest(`dump:${type}`, key, payload);
}

/** TYPE, PTTL and size of each key, and the server's clock, in two round trips. */
export async function keyMeta(node: RedisLike, keys: Buffer[]): Promise<KeyMeta[]> {
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
    // PTTL -2: the key does not exist.
    type: pttls[i] === -2 ? 'none' : types[i]!,
    expiresAt: pttls[i]! >= 0 ? now + pttls[i]! : -1,
    size: sizes[i] ?? 0,
  }));
}

/**
 * `DUMP` of every key exported whole, with its whole value read in the same transaction
 * (`MULTI`, both, `EXEC`; the transactions of a batch in one pipeline) for its content digest
 * (DUMP bytes are not canonical: hash-table order); a module type's by its payload, with its
 * TYPE read in the transaction. A key missing from the result was gone, or held another type,
 * by then: the caller reads it again.
 */
export async function dumpKeys(node: RedisLike, keys: Buffer[], meta: KeyMeta[], limits: TypedExportLimits, allTyped: boolean, strip: number): Promise<Map<number, { payload: Buffer; digest: Buffer }>> {
  const picked: number[] = [];
  const pipeline = node.pipeline();
  keys.forEach((key, i) => {
    const { type } = meta[i]!;
    if (type === 'none' || !exportsWhole(meta[i]!, limits, allTyped)) return;
    pipeline.call('MULTI');
    pipeline.callBuffer('DUMP', key);
    const reader = WHOLE_VALUE[type];
    if (reader) {
      const [name, ...args] = reader.command;
      pipeline.callBuffer(String(name), key, ...args);
    } else {
      // A module type: its payload is its only content; TYPE again, so a key rewritten with a
      // readable type before its DUMP is read again rather than saved as the module type.
      pipeline.callBuffer('TYPE', key);
    }
    pipeline.callBuffer('EXEC');
    picked.push(i);
  });
  const out = new Map<number, { payload: Buffer; digest: Buffer }>();
  if (picked.length === 0) return out;
  const answers = (await pipeline.exec()) ?? [];
  picked.forEach((i, n) => {
    // MULTI's OK, two QUEUED, then EXEC's array: the DUMP's and the value read's replies (an
    // error reply inside it is an Error; an aborted transaction is the EXEC's own error).
    const [execError, replies] = answers[n * 4 + 3] ?? [];
    if (execError || !Array.isArray(replies)) return;
    const [payload, value] = replies as unknown[];
    // WRONGTYPE on the value read: the key was rewritten with another type since its TYPE.
    if (payload instanceof Error || value instanceof Error || !payload) return;
    const type = meta[i]!.type;
    const key = keys[i]!.subarray(strip);
    if (!WHOLE_VALUE[type]) {
      if (String(value) !== type) return;
      out.set(i, { payload: payload as Buffer, digest: dumpDigest(type, key, payload as Buffer) });
      return;
    }
    out.set(i, { payload: payload as Buffer, digest: valueDigest(type, key, value) });
  });
  return out;
}
