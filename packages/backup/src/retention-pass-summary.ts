/**
 * A retention pass's state and its bounded summary (retention-pass.ts has the design): what
 * the read phase keeps of every verified backup it reads, the line the sweep deletes below,
 * and whether a backup found below it would have been kept. Pure: the pass object in S3 that
 * holds this state is retention-pass.ts's `PassRecord`; the runs that move it,
 * retention-pass-run.ts.
 */
import type { StreamPruneLeftAlone } from './retention-holds.js';

/** A verified backup the summary holds: its id, end time (ms) and the stream its start mark names. */
export interface PassEntry {
  id: string;
  endedAt: number;
  stream: string | null;
}

/** What the keep set can be made of (see the module comment). */
export interface PassSummary {
  /** The `keepLast` newest verified backups, newest first. */
  top: PassEntry[];
  /** The oldest verified backup that ended within `keepMs` of `startedAt`. */
  oldestRecent: PassEntry | null;
  /** The newest verified backup that ended before `startedAt - pitrWindowMs` (of `stream`, when given). */
  pitrBase: PassEntry | null;
  /**
   * The oldest verified backup (of `stream`, when given), with `pitrWindowMs`: kept when no
   * `pitrBase` exists (the window reaches past every backup), as the earliest point the window
   * can be restored from.
   */
  pitrFirst: PassEntry | null;
}

/** The policy a pass is drawn for. */
export interface PassPolicy {
  keepLast: number;
  keepMs: number;
  pitrWindowMs: number;
  job: string | null;
  stream: string | null;
}

/** The pass's saved state. */
export interface PassState {
  phase: 'read' | 'sweep' | 'uploads';
  /** `read`, `sweep`: the last backup id handled; `uploads`: the last id whose uploads were handled (`''`: none yet). */
  after: string;
  /** The clock of the pass's first run (ms). */
  startedAt: number;
  summary: PassSummary;
  /**
   * `sweep` with `job`: the oldest start mark on `stream` of the other jobs' backups the sweep
   * has met (null: none yet); absent until the sweep starts, and in a sweep saved before it
   * was collected (that sweep does not prune the stream).
   */
  held?: { timeline: number; seq: number } | null | undefined;
  /**
   * `sweep` with `stream`: what holds back the stream's prune (a snapshot starting, a job
   * checkpoint or a manifest that cannot be read: retention-holds.ts), collected from the
   * sweep's start, when `held` also starts from the stream's position and the running
   * snapshots' start marks. Absent in a sweep saved before it was collected: that sweep does
   * not prune the stream.
   */
  heldBack?: StreamPruneLeftAlone[] | undefined;
  /**
   * Without `job`: the job of every backup the pass has read (null: none yet). A backup of
   * another job refuses the run (retention-jobs.ts). A pass without `job` saved before it was
   * recorded (`read`, `sweep`) is not continued: a new one starts.
   */
  seenJob?: string | null | undefined;
}

/** A new pass's state. */
export function newPass(startedAt: number): PassState {
  return { phase: 'read', after: '', startedAt, summary: { top: [], oldestRecent: null, pitrBase: null, pitrFirst: null }, seenJob: null };
}

/** Orders backups by end time, then id (the policy's order). */
export function compareEntries(a: { endedAt: number; id: string }, b: { endedAt: number; id: string }): number {
  return a.endedAt - b.endedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Adds a verified backup to the summary. */
export function summarise(summary: PassSummary, entry: PassEntry, policy: PassPolicy, startedAt: number): void {
  if (summary.top.some((e) => e.id === entry.id)) return;
  summary.top = [...summary.top, entry].sort((a, b) => compareEntries(b, a)).slice(0, policy.keepLast);
  if (policy.keepMs > 0 && startedAt - entry.endedAt < policy.keepMs && (!summary.oldestRecent || compareEntries(entry, summary.oldestRecent) < 0)) summary.oldestRecent = entry;
  if (policy.pitrWindowMs > 0 && entry.endedAt <= startedAt - policy.pitrWindowMs && (policy.stream === null || entry.stream === policy.stream) && (!summary.pitrBase || compareEntries(entry, summary.pitrBase) > 0)) summary.pitrBase = entry;
  if (policy.pitrWindowMs > 0 && (policy.stream === null || entry.stream === policy.stream) && (!summary.pitrFirst || compareEntries(entry, summary.pitrFirst) < 0)) summary.pitrFirst = entry;
}

/** The point-in-time base the summary keeps: `pitrBase`, else (no backup ended before the window) `pitrFirst`. */
export function pitrKept(summary: PassSummary): PassEntry | null {
  return summary.pitrBase ?? summary.pitrFirst;
}

/** The backups the summary keeps (the newest verified first). */
export function keptEntries(summary: PassSummary): PassEntry[] {
  const out = [...summary.top];
  for (const e of [summary.oldestRecent, pitrKept(summary)]) if (e && !out.some((k) => k.id === e.id)) out.push(e);
  return out;
}

/**
 * The line of a pass: a backup ordered before it (`compareEntries`) is deleted. The oldest
 * backup the summary keeps, and never past `startedAt`; `undefined` when nothing is verified
 * (no backup is deleted).
 */
export function passThreshold(state: PassState): { endedAt: number; id: string } | undefined {
  const kept = keptEntries(state.summary);
  if (kept.length === 0) return undefined;
  const oldest = kept.reduce((a, b) => (compareEntries(a, b) <= 0 ? a : b));
  return oldest.endedAt < state.startedAt ? { endedAt: oldest.endedAt, id: oldest.id } : { endedAt: state.startedAt, id: '' };
}

/**
 * Would the keep rules keep this backup had the read phase seen it verified? (One of the
 * `keepLast` newest verified when the summary holds fewer, within `keepMs` of `startedAt`, or
 * the point-in-time base, or the window's earliest snapshot, when the summary had no base.)
 * Such a backup below the line was
 * verified after the read phase passed it.
 */
export function keepRulesWouldKeep(state: PassState, policy: PassPolicy, entry: PassEntry): boolean {
  if (state.summary.top.length < policy.keepLast) return true;
  if (policy.keepMs > 0 && state.startedAt - entry.endedAt < policy.keepMs) return true;
  // No base before the window: a backup below the line is older than `pitrFirst` (the window's earliest point).
  return policy.pitrWindowMs > 0 && !state.summary.pitrBase && (policy.stream === null || entry.stream === policy.stream);
}
