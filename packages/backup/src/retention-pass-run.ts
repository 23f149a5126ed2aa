/**
 * Runs the phases of a retention pass over `backups/` that spans runs (the design is in
 * retention-pass.ts): `read` (the bounded summary), `sweep` (the policy's deletes below the
 * line, orphan ids judged and cleaned id by id) and `uploads` (ids with unfinished uploads and
 * no object, then the ids job checkpoints name). Each page is asked of the run's budget first;
 * the position is saved after each page and where the run stops (not when the signal aborted:
 * the invocation is ending, the last saved position stands and the next run handles again
 * what came after it — deletes of what is already gone are no-ops, a backup left
 * half-deleted has no manifest and is cleaned as an orphan).
 */
import { noteJob, noteSource } from './retention-jobs.js';
import type { DeleteBudget } from './retention-budget.js';
import { noteDamaged, type DamagedObject } from './retention-damaged.js';
import { listJobCheckpoints, type JobCheckpoint } from './retention-checkpoints.js';
import { checkpointRecheck, cleanOrphanIds, deleteOrThrow, idOf, type OrphanOptions, type OrphanReport } from './retention-orphans.js';
import type { PassRecord } from './retention-pass.js';
import { compareEntries, keepRulesWouldKeep, keptEntries, newPass, passThreshold, pitrKept, summarise, type PassPolicy, type PassState } from './retention-pass-summary.js';
import type { Manifest } from './format/manifest.js';
import type { StreamHolds, StreamPruneLeftAlone } from './retention-holds.js';
import { headObject, type S3Location } from './s3/client.js';
import { listUploads, listUploadsPage } from './s3/multipart.js';
import { keys } from './target.js';
import { backupIdsPage, entryOf, holdFor, keptStillStand, lineManifest, readCandidate, type StreamMark } from './retention-candidates.js';

export type { StreamMark } from './retention-candidates.js';

/** What a pass run adds to the retention report. */
export interface PassOutcome {
  kept: string[];
  deleted: string[];
  uncommitted: string[];
  protected: { newestVerified?: string; pitrBase?: string };
  /** Verification records met damaged (their backups held, never deleted). */
  damaged: DamagedObject[];
  /** Backups below the line this run met and did not start on. */
  backupsLeft: number;
  /** Where the pass continues next run (undefined: it ended). */
  saved?: PassState;
  /** Why the sweep that ended in this run pruned none of the stream (see `RetentionReport.streamPruneLeftAlone`). */
  streamPruneLeftAlone?: StreamPruneLeftAlone[];
  /** The pass ended early — a kept backup changed, one below the line was verified, or the clock went back before the pass's start (see retention-pass.ts) — and a new one began. */
  restarted?: 'kept backup changed' | 'verified after it was read' | 'clock went back';
}

/** How a pass run goes. */
export interface PassRunOptions {
  policy: PassPolicy;
  now: number;
  orphans: Omit<OrphanOptions, 'budget' | 'signal'>;
  budget: DeleteBudget;
  signal?: AbortSignal;
  /**
   * With `stream`: prunes the stream objects older than this manifest's start mark (the oldest
   * backup kept) and than `held` (the oldest start mark on the stream of another job's backup,
   * with `job`; null: none), called once the sweep has deleted every backup below the line.
   */
  pruneStream?: (oldestKept: Manifest, held: StreamMark | null) => Promise<void>;
  /**
   * With `stream`: reads the stream's position and the running snapshots' marks (undefined:
   * the budget stopped it), at the sweep's start, before the sweep reads any manifest
   * (retention-holds.ts).
   */
  readHolds?: () => Promise<StreamHolds | undefined>;
}

/**
 * Continues the pass `state` (saved in `record`) as far as the budget lets it.
 * @throws {RetentionDeleteError} a delete or abort failed: the run stops there
 * @throws {FencedError} the retention lease was lost, or another run changed the pass object
 */
export async function continuePass(loc: S3Location, record: PassRecord, state: PassState, o: PassRunOptions, orphans: OrphanReport): Promise<PassOutcome> {
  const { budget, signal, policy } = o;
  const out: PassOutcome = { kept: [], deleted: [], uncommitted: [], protected: {}, damaged: [], backupsLeft: 0 };
  const root = keys.backupsRoot(loc);
  const job = policy.job ?? undefined;
  // One re-read of the checkpoints before this run's first orphan delete, shared by every id it judges.
  const orphanOptions: OrphanOptions = { ...o.orphans, budget, recheck: checkpointRecheck(), ...(signal ? { signal } : {}) };
  // The state as last stored (the one given was read from the pass object): after a signal
  // nothing more is written, and the report names this one, not the run's unsaved progress.
  let stored: PassState = structuredClone(state);
  const persist = async (): Promise<void> => {
    await record.save(state, signal);
    stored = structuredClone(state);
  };
  const save = async (): Promise<PassOutcome> => {
    if (budget.stoppedBy !== 'signal') await persist();
    out.saved = stored;
    orphans.remaining = true;
    return out;
  };
  /** A manifest read the signal aborted: the budget records the stop (`signal`, `backups/` cut), nothing more is written. */
  const stopped = (): Promise<PassOutcome> => {
    budget.allowsPage(root);
    return save();
  };
  /** Reads one listing page and tells the budget how long it took (the reserve it keeps for the next page). */
  const timedPage = async <T>(read: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const page = await read();
    budget.pageTook(Date.now() - started);
    return page;
  };
  let checkpoints: JobCheckpoint[] | undefined;
  let checkpointsRead = false;
  let keptChecked = false;
  /** The first manifest this run read: every other must be of its source (retention-jobs.ts). */
  let seenSource: Manifest | undefined;
  /** Judges and cleans one id without a manifest; false when the budget stopped it. */
  const orphan = async (id: string): Promise<boolean> => {
    if (!checkpointsRead) {
      checkpoints = await listJobCheckpoints(loc, signal, budget);
      if (budget.stoppedBy) return false;
      checkpointsRead = true;
    }
    if (!checkpoints) {
      orphans.leftAlone.push({ id, reason: 'checkpoints unreadable' });
      return true;
    }
    const uploadsOf = async (of: string) => {
      const listed = await listUploads(loc, `${keys.backup(loc, of)}/`, { signal, gate: budget });
      return listed.complete ? listed.uploads : undefined;
    };
    if ((await cleanOrphanIds(loc, [id], checkpoints, uploadsOf, orphanOptions, orphans)) === 1) return true;
    orphans.idsLeft++;
    return false;
  };

  for (;;) {
    if (state.phase === 'read') {
      if (!budget.allowsPage(root)) return save();
      const page = await timedPage(() => backupIdsPage(loc, state.after, signal));
      for (const id of page.ids) {
        if (!budget.allowsPage(root)) return save();
        const c = await readCandidate(loc, id, job, signal);
        if (c === 'stopped') return stopped();
        // Without `job`, a backup of a second job refuses the run before any delete (retention-jobs.ts).
        if (job === undefined && typeof c === 'object') state.seenJob = noteJob(state.seenJob ?? null, c.manifest.job);
        // So does a backup of another source under the job (of the manifests this run read).
        if (typeof c === 'object') seenSource = noteSource(seenSource, c.manifest);
        if (c === 'uncommitted') out.uncommitted.push(id);
        else if (c !== 'skip' && c.held) noteDamaged(out.damaged, c.held); // not in the summary: never kept as verified, nor the line
        else if (c !== 'skip' && c.verified) summarise(state.summary, entryOf(c), policy, state.startedAt);
        state.after = id;
      }
      if (page.more) {
        await persist();
        continue;
      }
      state.phase = 'sweep';
      state.after = '';
      await persist();
      // The summary's kept backups, checked again at each sweep run's start (below).
      continue;
    }

    if (state.phase === 'sweep') {
      const kept = keptEntries(state.summary);
      out.protected = { ...(kept[0] ? { newestVerified: state.summary.top[0]!.id } : {}), ...(pitrKept(state.summary) ? { pitrBase: pitrKept(state.summary)!.id } : {}) };
      if (o.now < state.startedAt) {
        // An earlier clock keeps more (keepMs, an older point-in-time base) than the summary
        // drawn at startedAt holds: its line cannot be trusted for this run's deletes.
        out.restarted = 'clock went back';
        Object.assign(state, newPass(o.now));
        await persist();
        continue;
      }
      const stand = keptChecked || (await keptStillStand(loc, kept, budget, signal));
      // A read the budget refused or the signal cut: the kept backups are checked again next run.
      if (stand === 'stopped') return stopped();
      if (!stand) {
        out.restarted = 'kept backup changed';
        Object.assign(state, newPass(o.now));
        await persist();
        continue;
      }
      keptChecked = true;
      // With `stream`, the sweep starts from the stream's position and the running snapshots'
      // marks (read before any manifest of the sweep), then collects the oldest start mark other
      // jobs' backups have on it, from its first id (a sweep saved without them does not prune:
      // a later pass does).
      if (state.after === '' && state.held === undefined) {
        if (o.readHolds) {
          const holds = await o.readHolds();
          if (!holds) return save();
          state.held = holds.held;
          state.heldBack = holds.leftAlone;
        } else state.held = null;
      }
      const hold = (m: Manifest): void => {
        if (state.held !== undefined) state.held = holdFor(state.held, m, policy.stream);
      };
      const unreadable = (id: string) => (): void => {
        if (state.heldBack && policy.stream !== null) state.heldBack.push({ stream: policy.stream, reason: 'manifest unreadable', backupId: id });
      };
      const line = passThreshold(state);
      if (!budget.allowsPage(root)) return save();
      const page = await timedPage(() => backupIdsPage(loc, state.after, signal));
      for (const id of page.ids) {
        if (!budget.allowsPage(root)) return save();
        const c = await readCandidate(loc, id, job, signal, hold, unreadable(id));
        if (c === 'stopped') return stopped();
        // One committed after the read phase passed its id, of another job: refused before its delete.
        if (job === undefined && typeof c === 'object') state.seenJob = noteJob(state.seenJob ?? null, c.manifest.job);
        if (typeof c === 'object') seenSource = noteSource(seenSource, c.manifest);
        if (c === 'uncommitted') {
          out.uncommitted.push(id);
          if (!(await orphan(id))) return save();
        } else if (c !== 'skip') {
          if (c.held) {
            // Its verification record damaged: held wherever it is (its start mark holds the prune, as a kept backup's does).
            noteDamaged(out.damaged, c.held);
            hold(c.manifest);
            out.kept.push(id);
          } else if (!line || compareEntries(c, line) >= 0) {
            // A kept backup's start mark holds the prune too (it may be older than the line's: overlapping jobs).
            hold(c.manifest);
            out.kept.push(id);
          }
          else if (c.verified && keepRulesWouldKeep(state, policy, entryOf(c))) {
            // Verified after the read phase passed it, and kept by the rules: the line is stale.
            out.kept.push(id);
            out.restarted = 'verified after it was read';
            Object.assign(state, newPass(o.now));
            await persist();
            return { ...out, saved: state };
          } else {
            const objects = [keys.manifest(loc, id), keys.verification(loc, id), ...c.manifest.datasets.flatMap((d) => d.segments.map((s) => s.key))];
            // All of a backup's deletes or none; manifest first.
            if (!budget.allows(objects.length, false)) {
              out.backupsLeft++;
              return save();
            }
            for (const key of objects) await budget.spend(false, () => deleteOrThrow(loc, key, signal));
            out.deleted.push(id);
          }
        }
        state.after = id;
      }
      if (page.more) {
        await persist();
        continue;
      }
      // Every backup below the line is gone: the stream objects only they needed can go. Not
      // when the line is the pass's start (capped): a backup kept below the summary's oldest
      // might need them. A prune the budget stops is finished by a later pass.
      // Nor while a snapshot starts, or a job checkpoint or a manifest cannot be read (retention-holds.ts).
      if (state.heldBack && state.heldBack.length > 0) out.streamPruneLeftAlone = state.heldBack;
      else if (o.pruneStream && line && line.id !== '' && budget.stoppedBy === undefined && state.held !== undefined && state.heldBack !== undefined) {
        // The line's manifest (its start mark), read just before the prune's deletes: asked of the
        // budget like a page of `backups/`, as the kept backups' reads are (keptStillStand); its
        // verification record is not read (the prune needs the mark only). Refused, the pass stays
        // at the end of its sweep and the next run prunes.
        if (!budget.allowsPage(root)) return save();
        const oldest = await lineManifest(loc, line.id, job, signal);
        if (oldest === 'stopped') return stopped();
        if (oldest) await o.pruneStream(oldest, state.held);
      }
      state.phase = 'uploads';
      state.after = '';
      await persist();
      continue;
    }

    // uploads: ids with unfinished uploads (those with objects were met by the sweep too: judged again, harmlessly).
    if (!budget.allowsPage(root)) return save();
    const page = await timedPage(() => listUploadsPage(loc, root, state.after ? `${root}${state.after}/\uffff` : undefined, signal));
    const ids = [...new Set(page.uploads.map((u) => idOf(loc, u.key)).filter((id): id is string => id !== undefined && id > state.after))].sort();
    for (const id of ids) {
      // Each manifest HEAD is asked of the budget as one more page (an id with a manifest is
      // never judged further: many of them must not run the invocation past its reserve).
      if (!budget.allowsPage(root)) return save();
      if (!(await headObject(loc, keys.manifest(loc, id), signal)) && !(await orphan(id))) return save();
      state.after = id;
    }
    if (page.more && ids.length > 0) {
      await persist();
      continue;
    }
    // Last: the ids job checkpoints name that have no manifest (a run killed before its first object).
    if (!checkpointsRead) {
      checkpoints = await listJobCheckpoints(loc, signal, budget);
      if (budget.stoppedBy) return save();
      checkpointsRead = true;
    }
    for (const c of checkpoints ?? []) {
      if (!budget.allowsPage(root)) return save();
      if (!(await headObject(loc, keys.manifest(loc, c.backupId), signal)) && !(await orphan(c.backupId))) return save();
    }
    await record.end(signal);
    return out;
  }
}
