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
import { addressOf, mastersOf, sameTopology, topologyOf } from './redis-topology.js';
import { exportTyped, type TypedExportLimits } from './redis-typed.js';
import { dumpKeys, exportsWhole, isDumpOnly, keyMeta } from './redis-key-reads.js';
import { ContentHash } from '../format/content-hash.js';
import { copyAlive, copyFits, copyKey, copyNameFor, NO_HEADROOM, deletedLine, dropCopy, isCopyKey, KeyStanding, needsCopy, replacing } from './redis-big-key.js';
import type { SnapshotRecord } from './types.js';

const resumeSchema = z.object({
  /** Index of the master (in `mastersOf` order). */
  node: z.number().int().min(0),
  /** That master's address, as a check. */
  address: z.string(),
  /** The SCAN cursor that began the batch of the last record. */
  cursor: z.string().regex(/^\d+$/),
  /**
   * Inside a big key being exported in chunks: the key and the position after the last chunk
   * written; its type and expiry when read (absent in checkpoints of older versions: the key is
   * then exported again from chunk 0), and the point-in-time copy it is read from (redis-big-key.ts).
   */
  inner: z
    .object({ key: z.string(), position: z.string(), chunk: z.number().int().min(0), type: z.string().optional(), ttl: z.number().int().optional(), copy: z.string().optional() })
    .optional(),
});
type NodeResume = z.infer<typeof resumeSchema>;

/** Reads of a key's TYPE and value before one that keeps changing type fails the run (it is never left out silently). */
const KEY_READ_ROUNDS = 5;

/** A key's id in resume points (its encoded bytes as JSON). */
function keyId(key: Buffer): string {
  return JSON.stringify(encodeBytes(key));
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
  /** A big list or string read from the key itself, without a point-in-time copy: why (`COPY` refused, or no name in the key's Cluster slot). */
  onNoCopy?(reason: string): void;
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
  // What the cut key's records so far add: taken out by its record if it is written again.
  const standing = new KeyStanding();
  if (history) {
    for await (const line of history) {
      const key = keyOfLine(line);
      seen.add(key);
      if (from?.inner && from.inner.key === keyId(key)) standing.add(line);
    }
  }
  const clustered = typeof client.nodes === 'function';
  // The cut key written again from scratch: its first record replaces its earlier ones.
  let replace: { id: string; earlier: ReturnType<KeyStanding['entries']> } | undefined;

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
          let { type, expiresAt } = meta[i]!;
          const id = keyId(key);
          let start = inner && inner.key === id ? inner : undefined;
          let copy: Buffer | undefined;
          if (start) {
            inner = undefined;
            seen.add(key);
            // Read on from the point-in-time copy while it lives (whatever the key holds now), or
            // from the key itself while it has the type it had; else export it again from chunk 0.
            const named = start.copy === undefined ? undefined : decodeBytes(JSON.parse(start.copy) as string | { $b64: string });
            if (named && start.type !== undefined && (await copyAlive(node, named, start.type))) {
              copy = named;
              type = start.type;
              expiresAt = start.ttl ?? expiresAt;
            } else if (named || start.type === undefined || start.type !== type) {
              start = undefined;
              replace = { id, earlier: standing.entries() };
            }
          }
          // The first record of a key written again replaces its earlier records in the backup.
          const record = (line: string, digest: Uint8Array, resume: NodeResume): SnapshotRecord => {
            const earlier = replace?.id === id ? replace.earlier : [];
            if (replace?.id === id) replace = undefined;
            return { key: id, ...replacing(line, digest, earlier), resume };
          };
          if (type === 'none') {
            options.onExpired();
            if (replace?.id === id) yield record(deletedLine(key), new ContentHash().toBytes(), base);
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
            yield record(line, dumped.digest, base);
            continue;
          }
          if (!start && needsCopy(type, meta[i]!.size, limits)) {
            const name = copyNameFor(key, clustered);
            const made = !name
              ? { result: 'refused' as const, reason: 'no name in its Cluster slot' }
              : (await copyFits(node, key))
                ? await copyKey(node, key, name)
                : { result: 'refused' as const, reason: NO_HEADROOM };
            if (made.result === 'gone') {
              again.push(key);
              continue;
            }
            if (made.result === 'copied') copy = name;
            else if (made.result === 'refused') options.onNoCopy?.(made.reason);
          }
          const at = start ? { position: start.position, chunk: start.chunk } : undefined;
          const cut = { type, ttl: expiresAt, ...(copy ? { copy: keyId(copy) } : {}) };
          for await (const chunk of exportTyped(node, key, type, expiresAt, limits, at, strip, copy)) {
            // The copy is no longer needed once its last chunk is read (a resume from before restarts the key).
            if (chunk.last && copy) await dropCopy(node, copy);
            yield record(chunk.line, chunk.digest, chunk.last ? base : { ...base, inner: { key: id, position: chunk.position, chunk: chunk.chunk, ...cut } });
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
        if (isBookkeepingKey(k) || isCopyKey(k)) return false;
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
