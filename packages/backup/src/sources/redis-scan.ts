/**
 * Reading a Redis keyspace for a snapshot: `SCAN … MATCH` on every master, in a stable order,
 * each key as its `DUMP` payload or, when big (or every key, for a typed backup), as typed
 * chunks (redis-typed.ts). Resumable without keeping anything alive: a record's resume point is
 * the master, the `SCAN` cursor of its batch and, inside a big key, the chunk position.
 *
 * Exactly once per backup, across resumes: `SCAN` returns a key twice while the server rehashes,
 * and a resume scans the last batch again, so every key written is remembered (`KeySet`) and a
 * resumed run first reads back the keys the backup already holds (`history`).
 *
 * A resume is only valid on the same servers with the same slots: a master restarted (its
 * `run_id`), replaced or resharded since the backup began has other cursors, and keys could be
 * missed. The topology recorded when the backup began is compared before reading, and the
 * topology at the start of a run again once the keyspace is read (a restart during the run,
 * hidden by the client's reconnection): `SourceChangedError` when it differs.
 *
 * Restore locks and partial-restore markers (`steadyfn:restore-lock:…`, `steadyfn:restore-marker:…`:
 * restore/lock-places.ts) and drill scratch markers (`steadyfn:drill-marker:…`: restore/redis-scratch.ts),
 * `~` in front for some prefixes, are skipped whatever the pattern: they are a restore's or a
 * drill's bookkeeping in a database that is also backed up, not its data.
 */
import { z } from 'zod';
import { BackupCorruptedError, SourceChangedError, SourceReadError } from '../errors.js';
import { firstIssue } from '../format/stored.js';
import { KeySet } from './key-set.js';
import { isBookkeepingKey } from '../restore/lock-places.js';
import type { RedisLike } from './redis.js';
import { decodeBytes, encodeBytes } from './redis-values.js';
import { serverFacts } from './redis-server-info.js';
import { exportTyped, type TypedExportLimits } from './redis-typed.js';
import { dumpKeys, exportsWhole, isDumpOnly, keyMeta } from './redis-key-reads.js';
import type { SnapshotRecord } from './types.js';

const resumeSchema = z.object({
  /** Index of the master (in `mastersOf` order). */
  node: z.number().int().min(0),
  /** That master's address, as a check. */
  address: z.string(),
  /** The SCAN cursor that began the batch of the last record. */
  cursor: z.string().regex(/^\d+$/),
  /** Inside a big key being exported in chunks: the key and the position after the last chunk written. */
  inner: z.object({ key: z.string(), position: z.string(), chunk: z.number().int().min(0) }).optional(),
});
type NodeResume = z.infer<typeof resumeSchema>;

/** Reads of a key's TYPE and value before one that keeps changing type fails the run (it is never left out silently). */
const KEY_READ_ROUNDS = 5;

/** How a master is named in resume points. */
export function addressOf(client: RedisLike, index: number): string {
  const options = client.options as { host?: string; port?: number } | undefined;
  return options?.host !== undefined ? `${options.host}:${options.port ?? 6379}` : `node${index}`;
}

/** A key's id in resume points (its encoded bytes as JSON). */
function keyId(key: Buffer): string {
  return JSON.stringify(encodeBytes(key));
}

/** The masters to scan, in a stable order. */
export async function mastersOf(client: RedisLike): Promise<RedisLike[]> {
  if (typeof client.nodes !== 'function') return [client];
  const nodes = client.nodes('master');
  return [...nodes].sort((a, b) => addressOf(a, 0).localeCompare(addressOf(b, 0)));
}

/**
 * What a resume depends on: each master's address and `run_id` (a new one after every restart),
 * and on a Cluster the slot ranges and who serves them.
 */
export async function topologyOf(client: RedisLike, masters: RedisLike[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, node] of masters.entries()) {
    // `?` when the node refuses INFO (an ACL): the backup's warnings say a restart goes unseen.
    out.push(`${addressOf(node, i)} ${(await serverFacts(node)).runId ?? '?'}`);
  }
  if (typeof client.nodes === 'function') {
    const slots = (await masters[0]!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string?]]>;
    for (const [start, end, owner] of slots) out.push(`slots ${start}-${end} ${owner[0]}:${owner[1]}`);
  }
  return out.sort();
}

/** The key of a record line this source wrote (the line starts with it). */
function keyOfLine(line: string): Buffer {
  const match = /^\{"k":("(?:[^"\\]|\\.)*"|\{"\$b64":"[A-Za-z0-9+/=]*"\})/.exec(line);
  if (!match) throw new BackupCorruptedError('a record of the backup so far has no key', [{ key: 'checkpoint', message: 'a record without its key' }]);
  return decodeBytes(JSON.parse(match[1]!) as string | { $b64: string });
}

/** What the scan needs. */
export interface ScanOptions {
  client: RedisLike;
  pattern: string;
  scanCount: number;
  limits: TypedExportLimits;
  allTyped: boolean;
  /** The topology recorded when the backup began (absent: not checked, e.g. a drill's read-back). */
  topology?: string[];
  /** Bytes of a scratch prefix left out of digests (drills). */
  strip: number;
  /** A key gone (no longer existing) between its SCAN and its DUMP. */
  onExpired(): void;
  onRepeat(): void;
  /** A key of a type without a value reader (a module type) exported by its DUMP payload alone. */
  onDumpOnly?(type: string): void;
  signal?: AbortSignal;
}

/**
 * The keyspace's records from the start, or after `resume` (a record's resume point), with
 * `history` giving the lines the backup already holds.
 * @throws {SourceChangedError} the servers or slots changed since the backup began
 * @throws {BackupCorruptedError} a resume point this source did not write
 */
export async function* scanKeyspace(options: ScanOptions, resume: unknown, history?: AsyncIterable<string>): AsyncGenerator<SnapshotRecord> {
  const { client, pattern, scanCount, limits, strip, signal } = options;
  let from: NodeResume | undefined;
  if (resume !== undefined) {
    const parsed = resumeSchema.safeParse(resume);
    if (!parsed.success) throw new BackupCorruptedError("the checkpoint's resume point is not one this source wrote", [{ key: 'checkpoint', message: firstIssue(parsed.error) }]);
    from = parsed.data;
  }
  const masters = await mastersOf(client);
  const begun = await topologyOf(client, masters);
  if (options.topology) sameTopology(options.topology, begun, 'since the backup began');
  const seen = new KeySet();
  if (history) for await (const line of history) seen.add(keyOfLine(line));

  for (let n = from?.node ?? 0; n < masters.length; n++) {
    const node = masters[n]!;
    const address = addressOf(node, n);
    const here = from && from.node === n ? from : undefined;
    if (here && here.address !== address) throw new SourceChangedError(`the Redis masters changed since the checkpoint (${here.address} is now ${address})`);
    let cursor = here?.cursor ?? '0';
    // A big key cut short by the last run: continued where it stopped, wherever SCAN returns it.
    let inner = here?.inner;
    const exportKeys = async function* (batch: Buffer[], batchCursor: string): AsyncGenerator<SnapshotRecord> {
      const base = { node: n, address, cursor: batchCursor };
      // A key whose DUMP or value read failed is read again from its TYPE: it counts as gone
      // only when it no longer exists; rewritten with another type, it is exported as that.
      let keys = batch;
      for (let round = 1; keys.length > 0; round++) {
        const meta = await keyMeta(node, keys);
        const dumps = await dumpKeys(node, keys, meta, limits, options.allTyped, strip);
        const again: Buffer[] = [];
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const { type, expiresAt } = meta[i]!;
          const id = keyId(key);
          const start = inner && inner.key === id ? inner : undefined;
          if (start) {
            inner = undefined;
            seen.add(key);
          }
          if (type === 'none') {
            options.onExpired();
            continue;
          }
          if (isDumpOnly(type) || (!start && exportsWhole(meta[i]!, limits, options.allTyped))) {
            const dumped = dumps.get(i);
            if (!dumped) {
              again.push(key);
              continue;
            }
            if (isDumpOnly(type)) options.onDumpOnly?.(type);
            const line = JSON.stringify({ k: encodeBytes(key), t: 'dump', ttl: expiresAt, v: dumped.payload.toString('base64'), h: dumped.digest.toString('hex') });
            yield { key: id, line, digest: dumped.digest, resume: base satisfies NodeResume };
            continue;
          }
          for await (const chunk of exportTyped(node, key, type, expiresAt, limits, start ? { position: start.position, chunk: start.chunk } : undefined, strip)) {
            const at: NodeResume = chunk.last ? base : { ...base, inner: { key: id, position: chunk.position, chunk: chunk.chunk } };
            yield { key: id, line: chunk.line, digest: chunk.digest, resume: at };
          }
        }
        if (again.length > 0 && round >= KEY_READ_ROUNDS) {
          // Never left out silently: the run fails (retryable) and says why.
          throw new SourceReadError(`${again.length} Redis key(s) changed type between each of ${KEY_READ_ROUNDS} reads of their TYPE and their value: not backed up silently incomplete; the run can be retried`);
        }
        keys = again;
      }
    };
    do {
      if (signal?.aborted) throw signal.reason;
      const batchCursor = cursor;
      const [next, found] = (await node.callBuffer('SCAN', cursor, 'MATCH', pattern, 'COUNT', scanCount)) as [Buffer, Buffer[]];
      cursor = next.toString();
      const keys = found.filter((k) => {
        // A restore's lock or partial-restore marker, or a drill's scratch marker (a restore or drill into this database wrote it): not data.
        if (isBookkeepingKey(k)) return false;
        if (inner && inner.key === keyId(k)) return true;
        if (seen.add(k)) return true;
        options.onRepeat();
        return false;
      });
      if (keys.length > 0) yield* exportKeys(keys, batchCursor);
    } while (cursor !== '0');
    // The cut key was not returned again (moved by a rehash to a part of the table already scanned): finish it now.
    if (inner) {
      const key = decodeBytes(JSON.parse(inner.key) as string | { $b64: string });
      yield* exportKeys([key], '0');
    }
    from = undefined;
  }
  // A master restarted while this run scanned (its client reconnected by itself) answered the
  // rest of the SCAN with another hash table's cursor: keys were skipped. Checked once the
  // keyspace is read, before the backup can be committed (a run stopped earlier is checked by
  // the next one, at its start).
  sameTopology(begun, await topologyOf(client, masters), 'during the scan');
}

/** @throws {SourceChangedError} `now` is not `before` (a master's run_id, address or slots) */
function sameTopology(before: string[], now: string[], when: string): void {
  if (JSON.stringify(now) === JSON.stringify(before)) return;
  const changed = [...now.filter((t) => !before.includes(t)), ...before.filter((t) => !now.includes(t)).map((t) => `gone: ${t}`)];
  throw new SourceChangedError(`the Redis servers changed ${when} (a restart, a failover or a resharding): ${changed.slice(0, 4).join('; ')}`);
}
