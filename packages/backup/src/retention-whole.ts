/**
 * A run that reads the whole of `backups/` itself (no pass of an earlier run to continue,
 * retention-pass.ts): every manifest page by page, then the policy (retention-policy.ts) and
 * the ids without a manifest (orphan handling, retention-orphans.ts). A run stopped before it
 * read them all deletes none and saves what it read as the first part of a pass.
 */
import { noteSource, refuseMixedJobs } from './retention-jobs.js';
import { cleanOrphans, type OrphanOptions } from './retention-orphans.js';
import type { DeleteBudget } from './retention-budget.js';
import { readStreamHolds } from './retention-holds.js';
import type { PassRecord } from './retention-pass.js';
import { newPass, summarise, type PassPolicy, type PassState } from './retention-pass-summary.js';
import { backupIdsPage, entryOf, holdFor, readCandidate, type Candidate, type StreamMark } from './retention-candidates.js';
import { applyPolicy, type RetainOptions } from './retention-policy.js';
import { noted, type RetentionReport } from './retention-report.js';
import { noteDamaged } from './retention-damaged.js';
import type { Manifest } from './format/manifest.js';
import type { S3Location } from './s3/client.js';
import { keys } from './target.js';

/** One run's fixed parts, shared by its steps instead of a closure over all of them. */
export interface RetainRun {
  readonly loc: S3Location;
  readonly o: RetainOptions;
  readonly policy: PassPolicy;
  readonly budget: DeleteBudget;
  readonly report: RetentionReport;
  readonly signal: AbortSignal | undefined;
  readonly orphanOptions: Omit<OrphanOptions, 'budget' | 'signal'>;
}

/** Reads every backup under backups/ and applies the policy, or saves what it read for a pass (`record`: none in a dry run). */
export async function retainWhole(run: RetainRun, record: PassRecord | undefined): Promise<void> {
  const { loc, o, policy, budget, report, signal } = run;
  const { job, now } = o;
  const root = keys.backupsRoot(loc);
  // The whole of backups/ in this run, page by page; the policy needs every backup, so a run
  // stopped here (its listing or manifests cut by the deadline) deletes none — and saves what
  // it read as the first part of a pass the next runs continue.
  const candidates: Candidate[] = [];
  const pass = newPass(now);
  // With `stream`: the stream's position and the running snapshots' start marks, read
  // before any manifest (retention-holds.ts); then, with `job`, the oldest start mark other
  // jobs' backups have on it. The prune stays below all of them.
  const holds = o.stream === undefined ? undefined : noted(report, await readStreamHolds(loc, o.stream, job, budget, signal));
  let held: StreamMark | null = holds ? holds.held : null;
  const hold = (m: Manifest): void => void (held = holdFor(held, m, o.stream));
  const unreadable = (id: string) => (): void => {
    if (o.stream !== undefined) report.streamPruneLeftAlone.push({ stream: o.stream, reason: 'manifest unreadable', backupId: id });
  };
  // Without `job`: the jobs whose backups were read (more than one refuses the run, retention-jobs.ts).
  const jobs = new Set<string>();
  let complete = false;
  reading: for (;;) {
    if (!budget.allowsPage(root)) break;
    const started = Date.now();
    const page = await backupIdsPage(loc, pass.after, signal);
    budget.pageTook(Date.now() - started);
    for (const id of page.ids) {
      if (!budget.allowsPage(root)) break reading;
      const c = await readCandidate(loc, id, job, signal, hold, unreadable(id));
      if (c === 'stopped') {
        // The signal cut the manifest's read: a stop (the budget records it), not a damaged backup.
        budget.allowsPage(root);
        break reading;
      }
      if (c === 'uncommitted') report.uncommitted.push(id);
      else if (c !== 'skip') {
        if (job === undefined) jobs.add(c.manifest.job);
        candidates.push(c);
        // A damaged verification record: the backup is held (applyPolicy), and reported.
        if (c.held) noteDamaged(report.damaged, c.held);
        if (c.verified) summarise(pass.summary, entryOf(c), policy, now);
      }
      pass.after = id;
    }
    if (!page.more) {
      complete = true;
      break;
    }
  }
  // Before any of the policy's deletes, whether it read every backup or saves a pass.
  refuseMixedJobs(jobs);
  candidates.reduce<Manifest | undefined>((seen, c) => noteSource(seen, c.manifest), undefined);
  pass.seenJob = jobs.size === 1 ? [...jobs][0]! : null;
  if (complete) {
    candidates.sort((a, b) => a.endedAt - b.endedAt || a.id.localeCompare(b.id));
    const verified = candidates.filter((c) => c.verified);
    if (holds) report.streamPruneLeftAlone.unshift(...holds.leftAlone);
    // A starting snapshot or an unreadable checkpoint or manifest: the stream is not pruned this run.
    const pruneHeld = holds && report.streamPruneLeftAlone.length === 0 ? held : 'no';
    if (verified.length > 0) await applyPolicy(loc, candidates, verified, pruneHeld, o, budget, report, signal);
    else report.kept = candidates.map((c) => c.id); // Nothing proven restorable: delete no backup.
    await cleanUncommitted(run, record);
  } else if (record && pass.after !== '' && budget.stoppedBy !== 'signal') {
    await record.save(pass, signal);
    report.backupsPass = { phase: 'read', after: pass.after, startedAt: new Date(now).toISOString() };
    leaveUncommitted(report);
  } else leaveUncommitted(report);
}

/** Orphan handling after a whole read: cleans the ids without a manifest; an unfinished-upload listing cut short becomes a pass's `uploads` phase. */
async function cleanUncommitted(run: RetainRun, record: PassRecord | undefined): Promise<void> {
  const { loc, budget, report, signal, orphanOptions } = run;
  const { now } = run.o;
  const root = keys.backupsRoot(loc);
  const cutBefore = budget.listingsCut.includes(root);
  report.orphans = await cleanOrphans(loc, report.uncommitted, { ...orphanOptions, budget, ...(signal ? { signal } : {}) });
  // Its listing of unfinished uploads cut: the next runs list them page by page (a pass's last phase).
  const uploadsCut = !cutBefore && budget.listingsCut.includes(root);
  if (record && uploadsCut && budget.stoppedBy !== 'signal') {
    const next: PassState = { ...newPass(now), phase: 'uploads' };
    await record.save(next, signal);
    report.backupsPass = { phase: 'uploads', after: '', startedAt: new Date(now).toISOString() };
  } else if (record && !uploadsCut) await record.end(signal); // one left by another policy or root, now moot
}

/** A run stopped before it read every manifest judges no id without one: all are left for the next run. */
function leaveUncommitted(report: RetentionReport): void {
  report.orphans = { ...report.orphans, remaining: report.uncommitted.length > 0, idsLeft: report.uncommitted.length };
}
