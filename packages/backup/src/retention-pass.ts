/**
 * Where a retention pass over `backups/` continues (`retention/backups-pass/<scope>/<policy>.json`): a bucket
 * with very many backup ids (or unfinished uploads) takes more than one invocation to list and
 * read, and a run that always started again from the first page would never get past the
 * pages its deadline lets it read (a livelock: nothing past them is ever judged or deleted).
 *
 * **Design.** A run that cannot read every manifest under `backups/` in one go starts a
 * **pass** of three phases, each continued by the next run from where the last one stopped:
 * 1. `read`: page by page (`StartAfter` the last id handled), every manifest and verification
 *    record is read into a bounded **summary** — never a list of every backup — holding only
 *    what the policy's keep set can be made of: the `keepLast` newest verified backups, the
 *    oldest verified one that ended within `keepMs`, and the newest verified one a
 *    `pitrWindowMs` window can start from (or, when none ended before the window, the oldest
 *    verified one: the earliest point the window can be restored from). Nothing is deleted. When the listing ends, the
 *    policy's line is known: the oldest backup the summary keeps (`threshold`).
 * 2. `sweep`: `backups/` is listed again page by page; a backup (of `job`) older than the line
 *    is deleted (whole, as in one run), one at or past it is kept; an id without a manifest is
 *    an orphan candidate, judged and cleaned id by id as in one run (retention-orphans.ts).
 * 3. `uploads`: unfinished uploads under `backups/` page by page (`KeyMarker` past the last
 *    id handled), for the ids that have uploads and no object; then the ids job checkpoints
 *    name. Each id's manifest HEAD is asked of the budget like a page (a run stopped among
 *    them saves the last id handled). The pass then ends (the object is deleted) and the run
 *    after starts a new one.
 *
 * **Why the policy is never judged from part of `backups/`.** Which backup is the oldest one
 * kept depends on the newest verified backups — the last pages of the listing. So the line is
 * drawn only once the read phase has seen every page, and the deletes come in a second pass.
 * The line is drawn as a single complete listing at the pass's first run (`startedAt`) would
 * draw it, and conservatively for what a later one could see:
 * - `keepMs` and `pitrWindowMs` are measured from `startedAt`, the pass's earliest clock: a
 *   later clock keeps no more (its base snapshot is never older). A sweep run whose clock is
 *   before `startedAt` (a clock that went back) would keep more: it ends the pass (a new one
 *   starts at its clock) before any delete;
 * - nothing that ended at or after `startedAt` is deleted (a backup committed after the read
 *   phase passed its id — a long job's late commit — is never below the line);
 * - at each sweep run's start the summary's kept backups are checked again (manifest present,
 *   still verified): one gone or no longer verified ends the pass (a new one starts);
 * - a backup below the line found verified that the keep rules would keep (one of the
 *   `keepLast` newest verified when the summary holds fewer, within `keepMs`, or the
 *   point-in-time base when the summary had none) was verified after the read phase passed it: it is kept and the pass ends. Other verified backups below the line would not be kept
 *   by a complete listing either (the summary's newer kept ones still stand).
 * What a single run already cannot see — a verification written, for a backup the sweep has
 * already passed, between its read and its delete — is the same here, over a longer window.
 *
 * **Validity.** The object has its own `formatVersion`, names the root (`storage.prefix`) and
 * the policy options it was drawn for (`keepLast`, `keepMs`, `pitrWindowMs`, `job`, `stream`):
 * another root or policy discards it (a new pass starts). Each scope (`job`, `stream`) and
 * policy keeps its pass under its own key (`passKey`): schedules for different jobs on one
 * prefix, or two schedules of one scope with different policies, do not discard each other's
 * passes (which would keep both from ever finishing on a bucket that takes several runs to
 * list). A run reports the other policies' objects in its scope (`others`: another schedule is
 * running, or a policy changed) and deletes those not written for `abandonedCheckpointMs`. A
 * pass saved by an earlier release at its scope's key (`retention/backups-pass.json`,
 * `retention/backups-pass/<scope>.json`) is continued when drawn for this policy and that
 * object removed at the first write. Only the holder of the retention
 * lease writes it, and every write is conditional on the ETag it last read or wrote
 * (`If-Match`, `If-None-Match: *` for the first): a run that lost its lease and still writes is
 * refused (`FencedError`) instead of moving another run's pass. One that cannot be read
 * (damaged, a newer format) is replaced by a new pass. Dry runs neither read nor write it.
 */
import { z } from 'zod';
import { BackupError, FencedError } from './errors.js';
import { getStored } from './format/stored.js';
import { deleteObject, headObject, listKeys, type S3Location } from './s3/client.js';
import { deleteIfUnchanged, putConditional } from './s3/conditional.js';
import type { S3Capabilities } from './s3/probe.js';
import type { StreamPruneLeftAlone } from './retention-holds.js';
import type { DeleteBudget } from './retention-budget.js';
// The state a pass object holds and what its summary keeps: pure, apart (retention-pass-summary.ts).
import type { PassPolicy, PassState } from './retention-pass-summary.js';
// Where the object lives (one key per scope and policy; the earlier releases' keys).
import { legacyPassKey, MAX_KEY_BYTES, passKey, POLICY_NAME } from './retention-pass-keys.js';

const entrySchema = z.object({ id: z.string().min(1), endedAt: z.number(), stream: z.string().nullable() });
const passSchema = z.object({
  formatVersion: z.literal(1),
  root: z.string(),
  policy: z.object({ keepLast: z.number().int(), keepMs: z.number(), pitrWindowMs: z.number(), job: z.string().nullable(), stream: z.string().nullable() }),
  phase: z.enum(['read', 'sweep', 'uploads']),
  after: z.string(),
  startedAt: z.number(),
  // `pitrFirst`: absent from passes saved before it was kept (such a pass with `pitrWindowMs` is not continued).
  summary: z.object({ top: z.array(entrySchema), oldestRecent: entrySchema.nullable(), pitrBase: entrySchema.nullable(), pitrFirst: entrySchema.nullable().optional() }),
  held: z.object({ timeline: z.number().int().min(1), seq: z.number().int().min(0) }).nullable().optional(),
  heldBack: z
    .array(z.object({ stream: z.string(), reason: z.enum(['snapshot starting', 'job checkpoint unreadable', 'manifest unreadable']), job: z.string().optional(), backupId: z.string().optional() }))
    .optional(),
  seenJob: z.string().nullable().optional(),
  savedAt: z.string(),
});

/**
 * Another policy's pass object in a run's scope: `removed` when it had not been written for
 * `abandonedCheckpointMs` (a policy changed since, or a schedule gone) and this run deleted it;
 * otherwise another schedule with this scope is running a pass of its own policy.
 */
export interface OtherPolicy {
  keepLast: number;
  keepMs: number;
  pitrWindowMs: number;
  /** When its object was last written (ISO 8601). */
  savedAt: string;
  removed: boolean;
}


/**
 * The pass object of a run (the retention lease is held): the state it holds, when valid for
 * this root and policy, and the ETag every later write of this run is conditional on.
 */
export class PassRecord {
  private constructor(
    private readonly loc: S3Location,
    private readonly caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>,
    private readonly policy: PassPolicy,
    /** The ETag of the object as last read or written (undefined: none exists). */
    private etag: string | undefined,
    /** The saved state, when it is valid for this root and policy. */
    readonly saved: PassState | undefined,
    /** The ETag of this scope's object at the key of releases before per-policy objects: removed at the first write. */
    private legacy?: string | undefined,
  ) {}

  /**
   * Reads the pass object; one of another root or policy, damaged or of a newer format yields no
   * state (its ETag is kept, to replace it). Without one, this scope's object at the key of an
   * earlier release is read instead: its pass, when drawn for this policy, is continued (saved
   * at the new key, the old object removed at the first write).
   */
  static async read(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, policy: PassPolicy, signal?: AbortSignal): Promise<PassRecord> {
    const record = await PassRecord.readAt(loc, caps, policy, passKey(loc, policy), signal);
    // A legacy key past S3's limit could never be written (and S3 refuses to read it).
    if (record.etag !== undefined || Buffer.byteLength(legacyPassKey(loc, policy)) > MAX_KEY_BYTES) return record;
    const legacy = await PassRecord.readAt(loc, caps, policy, legacyPassKey(loc, policy), signal);
    return legacy.etag === undefined ? record : new PassRecord(loc, caps, policy, undefined, legacy.saved, legacy.etag);
  }

  private static async readAt(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, policy: PassPolicy, key: string, signal?: AbortSignal): Promise<PassRecord> {
    try {
      const found = await getStored(loc, key, passSchema, { what: 'retention pass', version: 1 }, signal);
      if (!found) return new PassRecord(loc, caps, policy, undefined, undefined);
      const v = found.value;
      const same = v.root === loc.prefix && JSON.stringify(v.policy) === JSON.stringify(policy);
      // Saved before `pitrFirst` was kept: its line may be past the window's earliest snapshot.
      const drawnWithoutFirst = v.summary.pitrFirst === undefined && policy.pitrWindowMs > 0 && v.phase !== 'uploads';
      // Without `job`, saved before the jobs it read were recorded: a backup of another job may be behind it.
      const jobsUnknown = policy.job === null && v.seenJob === undefined && v.phase !== 'uploads';
      const summary = { ...v.summary, pitrFirst: v.summary.pitrFirst ?? null };
      return new PassRecord(loc, caps, policy, found.etag, same && !drawnWithoutFirst && !jobsUnknown ? { phase: v.phase, after: v.after, startedAt: v.startedAt, summary, ...(v.held !== undefined ? { held: v.held } : {}), ...(v.heldBack !== undefined ? { heldBack: v.heldBack.map(withoutUndefined) } : {}), ...(v.seenJob !== undefined ? { seenJob: v.seenJob } : {}) } : undefined);
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      return new PassRecord(loc, caps, policy, (await headObject(loc, key, signal))?.etag, undefined);
    }
  }

  /**
   * Saves `state` over what this run last read or wrote.
   * @throws {FencedError} another run changed the object meanwhile
   */
  async save(state: PassState, signal?: AbortSignal): Promise<void> {
    const body = JSON.stringify({ formatVersion: 1, root: this.loc.prefix, policy: this.policy, ...state, savedAt: new Date().toISOString() });
    const out = await putConditional(this.loc, this.caps, passKey(this.loc, this.policy), this.etag, body, signal ? { signal } : {});
    if (!out.written) throw new FencedError('retention: another run changed the retention pass object (under retention/); stopped before the next delete');
    this.etag = out.etag;
    await this.dropLegacy(signal);
  }

  /** Removes this scope's object at an earlier release's key, if it is still the one read. */
  private async dropLegacy(signal?: AbortSignal): Promise<void> {
    if (this.legacy === undefined) return;
    await deleteIfUnchanged(this.loc, this.caps, legacyPassKey(this.loc, this.policy), this.legacy, signal);
    this.legacy = undefined;
  }

  /**
   * The pass objects of other policies in this scope (`retention/backups-pass/<scope>/`): each
   * one not written for `abandonedMs` before `now` is deleted (`removed`), the others are
   * reported (another schedule with this scope runs its own pass). Keys not of this layout are
   * left alone. The retention lease is held. Each page of the listing is asked of the run's
   * `budget` (as a page of the folder) and each delete too: refused, the run is stopping
   * (`budget.stoppedBy`), and what was listed so far is reported, the rest left for the next run.
   */
  async others(now: number, abandonedMs: number, budget: DeleteBudget, signal?: AbortSignal): Promise<OtherPolicy[]> {
    const own = passKey(this.loc, this.policy);
    const folder = own.slice(0, own.lastIndexOf('/') + 1);
    const listed = await listKeys(this.loc, folder, { ...(signal ? { signal } : {}), gate: budget });
    const out: OtherPolicy[] = [];
    for (const { key, lastModified } of listed.keys) {
      const m = POLICY_NAME.exec(key.slice(folder.length));
      if (key === own || !m) continue;
      // A time the server does not give counts as now: never old enough.
      const savedAt = lastModified ?? now;
      // An abandoned one is removed only when the budget allows a delete (else next run).
      const removed = now - savedAt >= abandonedMs && budget.allows(1, false);
      if (removed) await budget.spend(false, () => deleteObject(this.loc, key, signal));
      out.push({ keepLast: Number(m[1]), keepMs: Number(m[2]), pitrWindowMs: Number(m[3]), savedAt: new Date(savedAt).toISOString(), removed });
    }
    return out;
  }

  /**
   * Ends the pass: deletes the object if it is still the one this run last read or wrote.
   * @throws {FencedError} another run changed it meanwhile
   */
  async end(signal?: AbortSignal): Promise<void> {
    await this.dropLegacy(signal);
    if (this.etag === undefined) return;
    const out = await deleteIfUnchanged(this.loc, this.caps, passKey(this.loc, this.policy), this.etag, signal);
    if (out === 'changed') throw new FencedError('retention: another run changed the retention pass object (under retention/)');
    this.etag = undefined;
  }
}

/** A parsed entry without the optional keys it lacks (exact optional property types). */
function withoutUndefined(e: { stream: string; reason: StreamPruneLeftAlone['reason']; job?: string | undefined; backupId?: string | undefined }): StreamPruneLeftAlone {
  return { stream: e.stream, reason: e.reason, ...(e.job !== undefined ? { job: e.job } : {}), ...(e.backupId !== undefined ? { backupId: e.backupId } : {}) };
}
