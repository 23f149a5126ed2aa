/**
 * Where a restore writes. A target is told about the backup first (`prepare`, which may refuse
 * it: FerretDB and TTL indexes, a DUMP payload newer than the server), checks every record
 * during the verification pass (`check`), and only then applies data (`apply`) and metadata
 * (`finish`: indexes after data).
 */
import type { Manifest, ManifestDataset } from '../format/manifest.js';
import type { LeaseRecord, LeaseStore } from '@steadyfn/lease';
import type { IndexDefinition } from './mongo-indexes.js';
import type { RestoreNotice } from './notices.js';

/** One change of a streamed record, as a point-in-time restore applies it. */
export interface ChangeToApply {
  /** Collection (or key namespace) the change belongs to. */
  namespace: string;
  op: 'upsert' | 'delete';
  /** The document's `_id` as canonical EJSON. */
  id: string;
  /** The full document after the change (canonical EJSON), for `upsert`. */
  doc?: string;
}

/**
 * What a drill writes into its scratch target before restoring into it (MongoDB: the
 * `steadyfn_drill_marker` collection), removed last by its drop: which drill, from which
 * backup storage (`s3://<bucket>/<prefix>`), and the collections it restores.
 */
export interface ScratchMarker {
  drillId: string;
  backupId: string;
  /** The drilling job's backup storage, `s3://<bucket>/<prefix>`: only a drill from the same storage clears what this one left. */
  storage: string;
  /** ISO time the drill started. */
  startedAt: string;
  /** The target's collections (or key namespaces) the drill restores into. */
  collections: string[];
}

/**
 * A restore that started writing into a target and has not completed (restore/lock.ts): kept
 * in the target from the restore's first write until it completes, so it outlives a killed or
 * failed restore.
 */
export interface RestoreMarker {
  /** The restored backup's id (`restore()`, `pointInTimeRestore()`: the snapshot's), or `stream <name>` for `restoreStream()`. */
  backupId: string;
  /** ISO time the restore took the target's lock (just before its first write). */
  startedAt: string;
  /**
   * The restored manifest's self-checksum (SHA-256, hex): two backups that share an id (in two
   * buckets) are told apart. Absent for `restoreStream()` and in markers of earlier versions.
   */
  manifestSha256?: string;
  /**
   * Which restore of the backup wrote the marker: `'snapshot'` (`restore()`), `'point-in-time'`
   * (`pointInTimeRestore()`: the snapshot, then the stream up to `until`) or `'stream'`
   * (`restoreStream()`). Only the same restore — same kind, backup, stream, timeline and `until` —
   * counts as completing it. Absent in markers of earlier versions (legacy markers, `sameRestore`
   * in lock-places.ts): `stream <name>` is read as `'stream'` of any timeline and `until`, any
   * other id as a `restore()` or `pointInTimeRestore()` of that snapshot (either completes it).
   */
  kind?: RestoreKind;
  /** `'point-in-time'`: the stream replayed after the snapshot; `'stream'`: the stream replayed. */
  stream?: string;
  /** `'stream'`: the timeline replayed. */
  timeline?: number;
  /** Where the replay stops (ISO): `pointInTimeRestore`'s `at`, `restoreStream`'s `until` (absent: to the stream's end). */
  until?: string;
}

/** The kinds of restore a partial-restore marker names (`RestoreMarker.kind`). */
export type RestoreKind = 'snapshot' | 'point-in-time' | 'stream';

/**
 * Which restore a marker is of: the backup id, the manifest's self-checksum when known, and the
 * kind of restore with where it replays to (`RestoreMarker`).
 */
export type RestoreIdentity = Pick<RestoreMarker, 'backupId' | 'manifestSha256' | 'kind' | 'stream' | 'timeline' | 'until'>;

/**
 * Where a target keeps its restore lock and its partial-restore marker, in the target itself
 * (MongoDB: the collections `steadyfn_restore_lock` and `steadyfn_restore_marker`; Redis: the
 * keys `steadyfn:restore-lock:<keyPrefix>` and `steadyfn:restore-marker:<keyPrefix>`, and the
 * set `steadyfn:restore-lock-prefixes:` through which overlapping prefixes exclude each other).
 */
export interface RestoreLockPlace {
  /** The lease store holding the lock, and the lock's key in it. */
  leases(): Promise<LeaseStore>;
  readonly key: string;
  /**
   * Where other places' locks cover part of this one's scope (Redis: overlapping key prefixes of
   * one database): called before each claim of this lock, so that `heldOverlapping` of such a
   * place, read after its own claim, finds this one. Absent: no other place overlaps.
   */
  announce?(signal?: AbortSignal): Promise<void>;
  /** A held lock of another place whose scope overlaps this one's (its live record), or undefined; read after this place's claim. */
  heldOverlapping?(signal?: AbortSignal): Promise<LeaseRecord | undefined>;
  /**
   * The partial-restore markers of other places whose scope overlaps this one's (Redis: the
   * listed prefixes inside or around this `keyPrefix`), each with where it is (`markerWhere`):
   * a restore that did not finish there left part of its data where this one writes. Absent:
   * no other place overlaps.
   */
  overlappingMarkers?(signal?: AbortSignal): Promise<Array<{ marker: RestoreMarker; where: string }>>;
  /** The lock's live record (undefined: free), read without creating anything in the target. */
  readLock(signal?: AbortSignal): Promise<LeaseRecord | undefined>;
  /** Where the marker is, named in errors that ask the user to remove it (`the collection steadyfn_restore_marker`). */
  readonly markerWhere?: string;
  /** The marker a restore left, or undefined (none, or not a marker's shape). */
  readMarker(signal?: AbortSignal): Promise<RestoreMarker | undefined>;
  /** Writes `marker` (replacing any earlier one); called only while the lock is held, before the first write. */
  writeMarker(marker: RestoreMarker, signal?: AbortSignal): Promise<void>;
  /**
   * Removes the marker only if it is still `marker` (compare-and-delete: MongoDB a filtered
   * `deleteOne`, the collection dropped when empty; Redis one script on the one key). Called
   * when a restore completes, after a fresh renewal confirmed its lock.
   */
  clearMarker(marker: RestoreMarker, signal?: AbortSignal): Promise<void>;
  /**
   * Removes the lock's records from the target (MongoDB: drops the collection
   * `steadyfn_restore_lock`), so a restore leaves no collection of its own behind. Called only
   * by the restore holding the lock, right after a fresh renewal, in place of releasing it, and
   * only when no other restore can be about to build on an older record (restore/lock.ts).
   * Absent: the lock is released and its records stay (Redis: they expire by themselves).
   */
  removeLock?(signal?: AbortSignal): Promise<void>;
}

/**
 * What a target's `prepare` found for one restore call: the warnings, and the call's own state
 * in the target when it keeps any.
 */
export interface PreparedRestore {
  warnings: string[];
  /**
   * This restore call's state in the target (an opaque token; Redis: what the target's version
   * takes of stream groups, and what the checks noted it cannot): handed back to `check`,
   * `checkWarnings` and `apply` of the same call, so that another call preparing the same target
   * object meanwhile — even one refused later as busy — changes nothing of this call's. Absent:
   * the target keeps no per-call state.
   */
  call?: object;
}

/** A restore target. Build one with `mongoTarget()` or `redisTarget()`. */
export interface RestoreTarget {
  readonly kind: 'mongodb' | 'redis';
  /**
   * Reads what the target supports; throws `RestoreUnsupportedError` when the backup cannot go
   * there. Writes nothing. Warns of a target that is not empty (the restore merges into it).
   * Called once per restore call, before the restore lock is taken: what it reads for the call
   * is kept under `PreparedRestore.call`, not in the target object (two calls may prepare it at once).
   */
  prepare(manifest: Manifest, signal?: AbortSignal): Promise<PreparedRestore>;
  /**
   * Where the target already holds data a restore of the backed-up collections `names` would
   * merge with (MongoDB: each such collection holding documents — found exactly, `count`
   * estimated —; Redis: its
   * database without `keyPrefix`, its own bookkeeping keys left out, or the keys under
   * `keyPrefix`, `count` a lower bound there); empty when none. Reads only.
   *
   * A custom target without it cannot be checked: a restore into it with `ifTargetNotEmpty:
   * 'refuse'` (the default) is refused up front with `ConfigurationError` (`CONFIG_INVALID`
   * naming `ifTargetNotEmpty`, nothing read or written); pass `ifTargetNotEmpty: 'merge'` to
   * restore into it anyway. `mongoTarget` and `redisTarget` have it.
   */
  heldData?(names: string[], signal?: AbortSignal): Promise<Array<{ where: string; count: string }>>;
  /**
   * Why this record cannot be stored here, or undefined. Called for every record before anything
   * is written. `call`: the token this call's `prepare` returned (`PreparedRestore.call`); without
   * it, the state of the target's latest `prepare` (one caller at a time only).
   */
  check(dataset: ManifestDataset, line: string, call?: object): string | undefined;
  /**
   * What the checks of the call `call` (as for `check`) found the target will store only in part
   * (a Redis target's stream groups on an older server), once every record was checked: added to
   * the restore's warnings.
   */
  checkWarnings?(call?: object): string[];
  /**
   * What the call `call` (as for `check`) found typed, once its records were written (each also
   * a line of `checkWarnings`): a Redis target's pending entries it could not recreate, its
   * version assumed (notices.ts). Added to the restore's `notices`. Absent: none.
   */
  notices?(call?: object): RestoreNotice[];
  /**
   * Whether `apply` counts this record but never writes it: steadyfn's own bookkeeping that a
   * backup made by an earlier version may hold (Redis restore locks and markers, drill markers;
   * `isBookkeepingKey`). A drill leaves such records out of the backup's side of its comparison.
   * Absent: every record is written.
   */
  skips?(dataset: ManifestDataset, line: string): boolean;
  /**
   * Writes the records of `dataset`; resolves to the number applied. Once `signal` aborts, starts
   * no further batch and rejects with its reason (the batch in flight settles first): call
   * `signal.throwIfAborted()` (or read `signal.aborted`) right before each batch — that is also
   * where a restore's target lock is checked, so a restore that lost it (paused past `lockMs`)
   * writes no further batch. `call`: as for `check`.
   */
  apply(dataset: ManifestDataset, lines: AsyncIterable<string>, signal?: AbortSignal, call?: object): Promise<number>;
  /**
   * Checks the target again where no other restore can write: called once the restore's lock is
   * held, before its marker and first write (MongoDB: the target's indexes against the
   * backup's, `IndexConflictError`), or just before the first write when no lock is taken
   * (drills). `prepare` may make the same check earlier to fail fast. Writes nothing.
   */
  checkLocked?(manifest: Manifest, signal?: AbortSignal): Promise<void>;
  /** Creates indexes (after data). */
  finish(dataset: ManifestDataset, signal?: AbortSignal): Promise<void>;
  /**
   * Once every dataset is written and finished: what depends on them all (MongoDB: the
   * manifest's views, created after the collections they read). `signal` as for `apply`. Absent: nothing.
   */
  finishAll?(manifest: Manifest, signal?: AbortSignal): Promise<void>;
  /** Applies streamed changes in order (point-in-time restore; MongoDB targets only); `signal` as for `apply`. */
  applyChanges?(changes: ChangeToApply[], signal?: AbortSignal): Promise<void>;
  /** Reads the restored data back as lines of the backup's encoding (for drills: counts and content hashes). */
  readBack(dataset: ManifestDataset, signal?: AbortSignal): AsyncIterable<string>;
  /**
   * The restored indexes of `dataset` (drills compare them with the manifest's; MongoDB
   * targets only), with the index options this server does not keep (left out of the
   * comparison) and the backup's indexes this target skipped on purpose (`unsupportedMetadata: 'skip'`).
   */
  readIndexes?(dataset: ManifestDataset, signal?: AbortSignal): Promise<{ indexes: IndexDefinition[]; unkeptOptions: ReadonlyArray<string>; skipped: string[] }>;
  /**
   * Removes what a drill restored (a scratch database's collections; the keys matching the
   * backup's patterns, under the scratch prefix or, without one, in the database) and its
   * marker, last. Resolves `false` when it removed nothing it could tell was the drill's (the
   * drill then reports `dropped: false` with a note); a target without `drop` is reported so too.
   *
   * @throws when a removal fails (the drill reports it in `drill.scratch.dropError`)
   */
  drop?(manifest: Manifest, signal?: AbortSignal): Promise<void | false>;
  /** The target collections (MongoDB) or key patterns (Redis) a drill of `manifest` restores into, for its marker. */
  scratchCollections?(manifest: Manifest): string[];
  /** Writes a drill's marker (MongoDB and Redis targets). */
  markScratch?(marker: ScratchMarker, signal?: AbortSignal): Promise<void>;
  /** The marker an earlier drill left (its drop failed or was skipped), or undefined. */
  readScratchMarker?(signal?: AbortSignal): Promise<ScratchMarker | undefined>;
  /** Drops the collections `marker` lists, then the marker. */
  clearScratch?(marker: ScratchMarker, signal?: AbortSignal): Promise<void>;
  /** Where `restore()` and point-in-time restores lock the target and mark it incomplete while they write. Without it, a restore takes no lock. */
  readonly lock?: RestoreLockPlace;
}
