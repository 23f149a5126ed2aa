/**
 * Where a restore target keeps its restore lock and partial-restore marker (lock.ts), in the
 * target itself so two restores into one target exclude each other whatever bucket they read:
 *
 * - MongoDB (`mongoLockPlace`): the lock is a `mongoLeaseStore` lease on the collection
 *   `steadyfn_restore_lock`, whose claims and reads hold across a completed restore's drop of
 *   that collection (lock-mongo-claim.ts); the marker the one document of
 *   `steadyfn_restore_marker` (the collection dropped when it is removed).
 * - Redis (`redisLockPlace`, per `keyPrefix`): the lock a `redisLeaseStore` lease under the key
 *   `steadyfn:restore-lock:<keyPrefix>`; the marker the key `steadyfn:restore-marker:<keyPrefix>`.
 *   Both lie outside the prefix (`~` in front when the prefix would start them), so a dataset's
 *   pattern under a non-empty prefix never matches them. Prefixes overlap (`''` holds every key,
 *   `a` holds `ab`'s), so a lock also excludes every held lock of an overlapping prefix: each
 *   restore adds its prefix to the set `steadyfn:restore-lock-prefixes:` before it claims, and
 *   once it holds its own lock reads every listed prefix's lock (`heldOverlapping`).
 */
import { mongoLeaseStore, type LeaseRecord, type LeaseStore, type MongoLeaseCollection, type RedisLeaseClient } from '@steadyfn/lease';
import { redisLeaseStoreOf } from '@steadyfn/lease/internal';
import { RestoreTargetBusyError } from '../errors.js';
import type { MongoDbLike } from '../sources/mongo.js';
import type { RedisLike } from '../sources/redis.js';
import { acrossDrop, claimsAcrossDrop } from './lock-mongo-claim.js';
import { dropCollection } from './mongo-scratch.js';
import { isScratchMarkerKey } from './redis-scratch.js';
import type { RestoreIdentity, RestoreKind, RestoreLockPlace, RestoreMarker } from './targets.js';

/** The MongoDB collections of the lock and the marker: never a restored collection. */
export const RESTORE_LOCK_COLLECTION = 'steadyfn_restore_lock';
export const RESTORE_MARKER_COLLECTION = 'steadyfn_restore_marker';
const LOCK_KEY = 'restore';
const MARKER_ID = 'restore';

/** The Redis key `<base><prefix>`, `~` in front when it would start with the prefix (not empty). */
function outsidePrefix(base: string, prefix: string): string {
  const key = `${base}${prefix}`;
  return prefix !== '' && key.startsWith(prefix) ? `~${key}` : key;
}

/** The Redis keys of the lock and the marker of a target with `keyPrefix` `prefix`. */
export function redisRestoreKeys(prefix: string): { lock: string; marker: string } {
  return { lock: outsidePrefix('steadyfn:restore-lock:', prefix), marker: outsidePrefix('steadyfn:restore-marker:', prefix) };
}

/** Whether a Redis key (as backed up) is a restore lock or marker of some target, or the database's list of restore-lock prefixes (`REDIS_LOCK_PREFIXES_KEY`). */
export function isRestoreLockKey(key: Buffer): boolean {
  return /^~?steadyfn:restore-(?:lock|marker|lock-prefixes):/.test(key.toString('latin1'));
}

/**
 * Whether a Redis key (as backed up) is steadyfn's bookkeeping rather than data: a restore lock
 * or marker of some target (`isRestoreLockKey`), or a drill's scratch marker of some prefix
 * (redis-scratch.ts). `redisSource` never backs these up.
 */
export function isBookkeepingKey(key: Buffer): boolean {
  return isRestoreLockKey(key) || isScratchMarkerKey(key);
}

const KINDS: ReadonlySet<string> = new Set<RestoreKind>(['snapshot', 'point-in-time', 'stream']);

/** The marker `found` (a MongoDB document, a parsed Redis value) holds; undefined when it is none. */
export function markerOf(found: unknown): RestoreMarker | undefined {
  const { backupId, startedAt, manifestSha256, kind, stream, timeline, until } = (found ?? {}) as Record<string, unknown>;
  if (typeof backupId !== 'string' || typeof startedAt !== 'string') return undefined;
  return {
    backupId,
    startedAt,
    ...(typeof manifestSha256 === 'string' ? { manifestSha256 } : {}),
    ...(typeof kind === 'string' && KINDS.has(kind) ? { kind: kind as RestoreKind } : {}),
    ...(typeof stream === 'string' ? { stream } : {}),
    ...(typeof timeline === 'number' ? { timeline } : {}),
    ...(typeof until === 'string' ? { until } : {}),
  };
}

/**
 * The kind of restore a marker or identity names. A marker written before markers said their
 * kind (a legacy marker) has none: `restoreStream()` wrote `{ backupId: 'stream <name>',
 * startedAt }` (read as `'stream'`), `restore()` and `pointInTimeRestore()` wrote
 * `{ backupId: <snapshot>, startedAt, manifestSha256 }` (undefined: either). An identity of a
 * restore at hand without one is a `restore()` (`'snapshot'`).
 */
export function legacyKind(marker: RestoreIdentity): RestoreKind | undefined {
  if (marker.kind !== undefined) return marker.kind;
  return marker.backupId.startsWith('stream ') ? 'stream' : undefined;
}

/**
 * Whether `marker` is of the restore `restoring`: the same backup id, kind of restore, stream,
 * timeline and `until` — a point-in-time restore left unfinished is not completed by a
 * `restore()` of its snapshot, nor by one to another time —, and the same manifest checksum when
 * both say one (a marker of an earlier version has none: the id decides).
 *
 * A legacy marker (no `kind`: written before the upgrade) says less, so what it does not say is
 * not held against the restore at hand: one of `restoreStream()` (`stream <name>`) matches a
 * `restoreStream()` of that stream whatever its timeline and `until`; any other matches a
 * `restore()` or a `pointInTimeRestore()` of that snapshot (same id and checksum) whatever its
 * stream and time — it cannot tell which of the two wrote it. So a `restore()` of the snapshot
 * completes (and clears) a legacy marker a `pointInTimeRestore()` left, as before the upgrade:
 * the target then holds the snapshot, with whatever of the replay's changes were written.
 */
export function sameRestore(marker: RestoreIdentity, restoring: RestoreIdentity): boolean {
  if (marker.backupId !== restoring.backupId) return false;
  const kind = restoring.kind ?? 'snapshot';
  if (marker.kind === undefined) {
    const legacy = legacyKind(marker);
    if (legacy === 'stream' ? kind !== 'stream' : kind === 'stream') return false;
  } else {
    if (marker.kind !== kind) return false;
    if (marker.stream !== restoring.stream || marker.timeline !== restoring.timeline || marker.until !== restoring.until) return false;
  }
  return marker.manifestSha256 === undefined || restoring.manifestSha256 === undefined || marker.manifestSha256 === restoring.manifestSha256;
}

/** The restore a marker or identity names, for messages: `backup <id>`, with the point in time or the stream replayed. */
export function describeRestore(restore: RestoreIdentity): string {
  // A legacy marker of restoreStream() names no timeline: its id (`stream <name>`) says it all.
  if (restore.kind === undefined && legacyKind(restore) === 'stream') return restore.backupId;
  if (restore.kind === 'point-in-time') return `backup ${restore.backupId} to ${restore.until} from stream ${restore.stream}`;
  if (restore.kind === 'stream') return `${restore.backupId} timeline ${restore.timeline}${restore.until === undefined ? '' : ` up to ${restore.until}`}`;
  return `backup ${restore.backupId}`;
}

/** A MongoDB target's lock place (its database). */
export function mongoLockPlace(db: () => Promise<MongoDbLike>): RestoreLockPlace {
  let leases: LeaseStore | undefined;
  const markers = async () => (await db()).collection(RESTORE_MARKER_COLLECTION);
  // Claims and reads hold across a completed restore's drop of the collection (lock-mongo-claim.ts).
  const store = (): LeaseStore => (leases ??= claimsAcrossDrop(mongoLeaseStore({ collection: async () => (await db()).collection(RESTORE_LOCK_COLLECTION) as MongoLeaseCollection })));
  return {
    key: LOCK_KEY,
    markerWhere: `the collection ${RESTORE_MARKER_COLLECTION}`,
    leases: async () => store(),
    readLock: (signal) =>
      acrossDrop(async () => {
        // No collection, no lock: the store's first call would create it (its probe inserts).
        const found = await (await db()).listCollections({ name: RESTORE_LOCK_COLLECTION }, { nameOnly: true, ...(signal ? { signal } : {}) }).toArray();
        return found.length === 0 ? undefined : store().get(LOCK_KEY, signal ? { signal } : {});
      }, signal),
    // Dropped while this restore still holds the lock: the drop is one step, so a claim reads
    // either the live lock (refused) or no collection (it claims generation 1 anew).
    removeLock: async (signal) => dropCollection(await db(), RESTORE_LOCK_COLLECTION, signal),
    readMarker: async () => markerOf(await (await markers()).findOne({ _id: MARKER_ID })),
    writeMarker: async (marker) => void (await (await markers()).replaceOne({ _id: MARKER_ID }, { _id: MARKER_ID, ...markerOf(marker)! }, { upsert: true })),
    // Only this restore's marker (no transactions on FerretDB: a filtered delete, then the
    // collection dropped when empty, so a completed restore leaves only the lock's collection).
    async clearMarker(marker, signal) {
      const collection = await markers();
      await collection.deleteOne({ _id: MARKER_ID, backupId: marker.backupId, startedAt: marker.startedAt });
      if ((await collection.countDocuments({}, { limit: 1 })) === 0) await dropCollection(await db(), RESTORE_MARKER_COLLECTION, signal);
    },
  };
}

const CLEAR_MARKER_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
/** A marker as stored: the same JSON for the same marker (the Redis compare-and-delete compares it). */
export const markerJson = (marker: RestoreMarker): string => JSON.stringify(markerOf(marker)!);

/**
 * The set of every `keyPrefix` a restore into the database locked (one key: Cluster-safe). Never
 * shrinks — a prefix removed when its restore ends could be one another restore just claimed — so
 * it holds every prefix ever restored into (each read once per restore: `heldOverlapping`).
 */
export const REDIS_LOCK_PREFIXES_KEY = 'steadyfn:restore-lock-prefixes:';

/** Whether restores into prefixes `a` and `b` can write the same key: one starts with the other. */
export function prefixesOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * The other listed prefixes (`REDIS_LOCK_PREFIXES_KEY`) overlapping `prefix` — the one place the
 * overlap is decided, for both the locks (`heldOverlapping`) and the markers (`overlappingMarkers`).
 */
async function overlappingPrefixes(client: RedisLike, prefix: string): Promise<string[]> {
  const listed = (await client.call('SMEMBERS', REDIS_LOCK_PREFIXES_KEY)) as unknown;
  return (Array.isArray(listed) ? listed.map(String) : []).filter((other) => other !== prefix && prefixesOverlap(other, prefix));
}

/** The marker stored under the Redis key `key`; undefined when none (or not a marker's shape). */
async function readRedisMarker(client: RedisLike, key: string): Promise<RestoreMarker | undefined> {
  const raw = await client.call('GET', key);
  if (typeof raw !== 'string') return undefined;
  try {
    return markerOf(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

/**
 * A Redis target's lock place (its database, per `keyPrefix`; excluding overlapping prefixes' locks too).
 * @param reach checks the client answers (a bounded `PING`), before each `readLock` — the first
 * request of every restore call and of `restoreStatus` — so each call is bounded, not only the first
 */
export function redisLockPlace(client: () => Promise<RedisLike>, prefix: string, reach?: (client: RedisLike) => Promise<void>): RestoreLockPlace {
  const keys = redisRestoreKeys(prefix);
  let leases: LeaseStore | undefined;
  // Silent on LEASE_STORE_EVICTS: a restore target is often a cache that evicts by design, and the
  // warning's advice (noeviction, for idempotency records) does not fit a lock held for one restore.
  const store = (): LeaseStore => (leases ??= redisLeaseStoreOf('redisTarget', { client: async () => (await client()) as unknown as RedisLeaseClient, prefix: '' }, () => undefined));
  return {
    key: keys.lock,
    markerWhere: `the key ${keys.marker}`,
    leases: async () => store(),
    // Listed before the claim, read after it: of two overlapping restores claiming at once, the
    // later reader finds the other's prefix listed and its lock held (both may; both refuse).
    announce: async () => void (await (await client()).call('SADD', REDIS_LOCK_PREFIXES_KEY, prefix)),
    async heldOverlapping(signal): Promise<LeaseRecord | undefined> {
      for (const other of await overlappingPrefixes(await client(), prefix)) {
        const record = await store().get(redisRestoreKeys(other).lock, signal ? { signal } : {});
        if (record?.state === 'held') return record;
      }
      return undefined;
    },
    async overlappingMarkers() {
      const c = await client();
      const found: Array<{ marker: RestoreMarker; where: string }> = [];
      for (const other of await overlappingPrefixes(c, prefix)) {
        const key = redisRestoreKeys(other).marker;
        const marker = await readRedisMarker(c, key);
        if (marker) found.push({ marker, where: `the key ${key}` });
      }
      return found;
    },
    async readLock(signal) {
      if (reach) await reach(await client());
      return store().get(keys.lock, signal ? { signal } : {});
    },
    readMarker: async () => readRedisMarker(await client(), keys.marker),
    writeMarker: async (marker) => void (await (await client()).call('SET', keys.marker, markerJson(marker))),
    // Compare-and-delete in one script on one key (Cluster-safe): only this restore's marker.
    clearMarker: async (marker) => void (await (await client()).call('EVAL', CLEAR_MARKER_SCRIPT, 1, keys.marker, markerJson(marker))),
  };
}

/** The `RestoreTargetBusyError` of a held lock record (naming the backup of the restore holding it, when its data says). */
export function busy(record: { state: string; expiresAt: number; data?: string }): RestoreTargetBusyError {
  let backupId: string | undefined;
  try {
    backupId = markerOf(JSON.parse(record.data ?? ''))?.backupId;
  } catch {
    backupId = undefined;
  }
  const until = new Date(record.expiresAt).toISOString();
  return new RestoreTargetBusyError(`another restore${backupId ? ` of backup ${backupId}` : ''} holds the target until ${until} (renewed while it writes); nothing was written`, backupId, record.expiresAt);
}
