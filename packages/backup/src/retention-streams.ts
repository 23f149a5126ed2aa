/**
 * Retention's sweep of stream objects that nothing refers to. A stream object (see
 * stream/objects.ts) is written before it is listed in its hour's index, and the index before
 * the stream's checkpoint moves past it; a sink killed between the object and its index leaves
 * the object unlisted, and when its successor re-reads the source into other buffer
 * boundaries, the same object number gets another key: the first object is never listed.
 *
 * A key under `streams/<name>/t<timeline>/<yyyy>/<mm>/<dd>/<hh>/` is an **orphan** when
 * - it is a stream object by its name (`<seq>_<first>_<last>_<sha>.ndjson.gz`; any other key is
 *   left alone), and not listed in that hour's index (`index.json`, read again just before
 *   the delete; an entry repeating an object number off the chain, a dead sink's, does not
 *   count: see `withoutRepeats`), and
 * - no live sink can still list it: its timeline is older than the checkpoint's, or it is the
 *   checkpoint's timeline and its object number is at most the checkpoint's `seq`. A sink (it
 *   holds the stream's lease) only ever writes object `seq + 1` of the current timeline, lists
 *   it, then checkpoints: an object written or being listed right now is always ahead of the
 *   checkpoint, so it is never a candidate (`inFlight`), whatever the grace;
 * - its `LastModified` is at least `orphanGraceMs` old (a sink that lost its lease and wakes up
 *   later — the only writer that could still list an old number — has that long).
 * Unfinished multipart uploads under the stream's timelines are aborted once `Initiated` is
 * that old: sinks write single PUTs, so no sink of this package makes them. A stream without a
 * checkpoint (its first sink died before its first checkpoint) is swept by its own rule
 * (retention-uncheckpointed.ts: everything old, under the stream's lease); one whose
 * checkpoint or an index cannot be read is left alone (`leftAlone`), and so is an hour whose
 * index lists a key S3 does not hold (a damaged index: the object an entry meant looks unlisted). Objects an index lists
 * are the retention policy's (`stream` option), never this sweep's. Every delete asks the
 * run's budget first.
 */
import { BackupError } from './errors.js';
import { abortOrThrow, deleteOrThrow } from './retention-orphans.js';
import type { DeleteBudget } from './retention-budget.js';
import { headObject, joinKey, listKeys, listPage, type ListedKey, type S3Location } from './s3/client.js';
import { clearCursor, readCursor, saveCursor, type SweepCursor } from './retention-cursor.js';
import { listUploads } from './s3/multipart.js';
import { sweepUncheckpointed, type StreamKeys } from './retention-uncheckpointed.js';
import { readStreamCheckpoint, type StreamCheckpoint } from './stream/checkpoint.js';
import { hourIndexKey, readHourIndex, withoutRepeats } from './stream/objects.js';

/** What the stream sweep did (or, in a dry run, would do). */
export interface StreamOrphanReport {
  /** Orphan objects deleted (planned, in a dry run), those of streams that never checkpointed included. */
  objects: number;
  /** Hourly indexes deleted (planned): only streams that never checkpointed lose theirs here. */
  indexes: number;
  /** Streams whose sink died before their first checkpoint, swept whole (but their lease object). */
  neverCheckpointed: string[];
  uploadsAborted: number;
  /**
   * Orphans found that this run did not delete because it stopped (batch, deadline or signal);
   * the next run continues. Hours and streams not reached are not counted here: see `streamsLeft`.
   */
  left: number;
  /** Streams this run stopped in or did not reach. */
  streamsLeft: number;
  /**
   * Where the next run's sweep continues (saved in `retention/streams-cursor.json`), when this
   * one stopped part way: the stream, and the last key it handled (`''`: none of it yet).
   */
  resumeAfter?: { stream: string; key: string };
  /** Unlisted objects ahead of their stream's checkpoint: a sink may be listing them now; never deleted. */
  inFlight: number;
  /** Orphans younger than `orphanGraceMs` (objects of a stream that never checkpointed included). */
  withinGrace: number;
  /**
   * Streams (or hours) not swept, and why: `sink running` (a stream that never checkpointed
   * whose lease a sink holds), `checkpointed meanwhile`, `never checkpointed, written within
   * the grace period`, `checkpoint unreadable`, `index unreadable`, `index lists a missing
   * object` (an hour whose index names a key S3 does not hold — damaged, e.g. one byte of an
   * entry's key changed: the object it meant would look unlisted — so none of its unlisted
   * objects is taken for an orphan).
   */
  leftAlone: Array<{
    stream: string;
    reason: 'sink running' | 'checkpointed meanwhile' | 'never checkpointed, written within the grace period' | 'checkpoint unreadable' | 'index unreadable' | 'index lists a missing object';
    hour?: string;
    /** With `index unreadable` and `index lists a missing object`: the index's key (relative to `storage.prefix`) and the code of the typed error reading it gave (e.g. `BACKUP_CORRUPTED`). */
    key?: string;
    code?: string;
  }>;
}

const OBJECT_PATH = /^t(\d+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(\d{12})_[^/]*\.ndjson\.gz$/;
const INDEX_PATH = /^t\d+\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/index\.json$/;

interface Found {
  key: string;
  /** Its place in the listed page. */
  at: number;
  timeline: number;
  hour: number;
  seq: number;
  lastModified: number | undefined;
}

/** Parses a key relative to `streams/<name>/`; undefined for anything but a stream object. */
function parseObjectKey(key: string, relative: string, at: number): Found | undefined {
  const m = OBJECT_PATH.exec(relative);
  if (!m) return undefined;
  const [, t, y, mo, d, h, seq] = m;
  return { key, at, timeline: Number(t), hour: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h)), seq: Number(seq), lastModified: undefined };
}

/** The first key `index` lists that is neither in `listed` (this page's keys) nor found by a HEAD; undefined when S3 holds them all. */
async function firstMissing(loc: S3Location, index: Set<string>, listed: Set<string>, signal?: AbortSignal): Promise<string | undefined> {
  for (const key of index) if (!listed.has(key) && !(await headObject(loc, key, signal))) return key;
  return undefined;
}

/** An object no live sink can still list (see the module comment). */
function behindCheckpoint(o: Found, checkpoint: StreamCheckpoint): boolean {
  return o.timeline < checkpoint.timeline || (o.timeline === checkpoint.timeline && o.seq <= checkpoint.seq);
}

/** How the stream sweep runs (`leaseMs`: for the lease of a stream that never checkpointed). */
export interface SweepOptions {
  graceMs: number;
  now: number;
  dryRun: boolean;
  leaseMs: number;
  budget: DeleteBudget;
  signal?: AbortSignal;
}

/** A report with nothing done. */
export function emptyStreamReport(): StreamOrphanReport {
  return { objects: 0, indexes: 0, uploadsAborted: 0, left: 0, streamsLeft: 0, inFlight: 0, withinGrace: 0, neverCheckpointed: [], leftAlone: [] };
}

/** A stream's sweep stopped (budget): the last key it handled, if it got past `after`. */
type Stopped = { stopped: true; after?: string | undefined };

/**
 * Sweeps every stream under `streams/`, from the saved cursor (see retention-cursor.ts).
 * @throws {RetentionDeleteError} a delete or abort failed: the run stops there
 * @throws {FencedError} the retention lease was lost
 */
export async function sweepStreams(loc: S3Location, options: SweepOptions): Promise<StreamOrphanReport> {
  const report = emptyStreamReport();
  const { budget, signal, dryRun } = options;
  const root = joinKey(loc.prefix, 'streams') + '/';
  // Stream names only (one page per 1,000 streams); a run that has already stopped still lists them, to count what is left.
  const listed = await listKeys(loc, root, { delimiter: '/', ...(signal ? { signal } : {}), ...(budget.stoppedBy ? {} : { gate: budget }) });
  const names = listed.prefixes.sort();
  if (!listed.complete) {
    report.streamsLeft = names.length;
    return report;
  }
  const cursor = dryRun || budget.stoppedBy ? undefined : await readCursor(loc, signal);
  const first = cursor ? names.findIndex((f) => f >= `${root}${encodeURIComponent(cursor.stream)}/`) : 0;
  const save = async (at: SweepCursor): Promise<void> => {
    if (dryRun || budget.stoppedBy === 'signal') return; // a signal ends the invocation: the last saved cursor stands
    await saveCursor(loc, at, signal);
  };
  for (let at = first < 0 ? names.length : first; at < names.length; at++) {
    const folder = names[at]!;
    const name = decodeURIComponent(folder.slice(root.length, -1));
    const after = cursor?.stream === name && cursor.after !== '' ? cursor.after : undefined;
    // Reading a stream takes time too: none is started once the deadline nears.
    const outcome = budget.allows(0, false) ? await sweepStream(loc, name, folder, after, options, report, (key) => save({ stream: name, after: key })) : ({ stopped: true, after } as Stopped);
    if (outcome) {
      report.streamsLeft = names.length - at;
      // Saved only when this run got past where it started (else the saved cursor stands).
      if (at > first || (outcome.after ?? '') !== (after ?? '')) {
        await save({ stream: name, after: outcome.after ?? '' });
        if (!dryRun && budget.stoppedBy !== 'signal') report.resumeAfter = { stream: name, key: outcome.after ?? '' };
      }
      return report;
    }
  }
  if (cursor && !dryRun) await clearCursor(loc, signal);
  return report;
}

async function sweepStream(loc: S3Location, name: string, folder: string, after: string | undefined, options: SweepOptions, report: StreamOrphanReport, progress: (after: string) => Promise<void>): Promise<Stopped | void> {
  const { signal, budget } = options;
  let checkpoint: StreamCheckpoint | undefined;
  try {
    checkpoint = (await readStreamCheckpoint(loc, name, signal))?.value;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    report.leftAlone.push({ stream: name, reason: 'checkpoint unreadable' });
    return;
  }
  const timelines = `${folder}t`;
  if (!checkpoint) {
    // A first sink writes one object (and its index): a short listing, judged whole.
    const listStream = async (): Promise<StreamKeys | undefined> => {
      const uploads = await listUploads(loc, timelines, { signal, gate: budget });
      const listed = uploads.complete ? await listKeys(loc, timelines, { ...(signal ? { signal } : {}), gate: budget }) : undefined;
      if (!listed?.complete) return undefined;
      const found: StreamKeys = { objects: [], indexes: [], uploads: uploads.uploads };
      for (const k of listed.keys) {
        const relative = k.key.slice(folder.length);
        if (OBJECT_PATH.test(relative)) found.objects.push(k);
        else if (INDEX_PATH.test(relative)) found.indexes.push(k);
      }
      return found;
    };
    const found = await listStream();
    if (!found) return { stopped: true, after };
    return (await sweepUncheckpointed(loc, name, found, listStream, options, report)) === 'stopped' ? { stopped: true, after } : undefined;
  }
  // Page by page: each page is handled whole (or up to a refused delete) before the next is asked for.
  let token: string | undefined;
  let done = after;
  for (;;) {
    if (!budget.allowsPage(timelines)) return { stopped: true, after: done };
    const started = Date.now();
    const page = await listPage(loc, timelines, { ...(signal ? { signal } : {}), ...(token ? { token } : after ? { startAfter: after } : {}) });
    budget.pageTook(Date.now() - started);
    const handled = await sweepPage(loc, name, folder, checkpoint, page.keys, options, report);
    if (handled !== page.keys.length) return { stopped: true, after: handled > 0 ? page.keys[handled - 1]!.key : done };
    done = page.keys.at(-1)?.key ?? done;
    if (!page.next) break;
    token = page.next;
    if (done !== undefined) await progress(done);
  }
  const uploads = await listUploads(loc, timelines, { signal, gate: budget });
  if (!uploads.complete) return { stopped: true, after: done };
  for (const upload of uploads.uploads) {
    // moto answers a fixed 2010 date for Initiated: such an upload counts as old (sinks never make one).
    if (options.now - (upload.initiated || options.now) < options.graceMs) continue;
    if (options.dryRun) {
      report.uploadsAborted++;
      continue;
    }
    if (!budget.allows(1, true)) return { stopped: true, after: done };
    await budget.spend(true, () => abortOrThrow(loc, upload));
    report.uploadsAborted++;
  }
}

/**
 * Sweeps one listed page of a checkpointed stream (keys in listing order: an hour's keys are
 * together). Resolves to how many keys it handled: all of them, or those before the first
 * orphan the budget refused, or before the first hour whose index read it refused.
 */
async function sweepPage(loc: S3Location, name: string, folder: string, checkpoint: StreamCheckpoint, listed: ListedKey[], options: SweepOptions, report: StreamOrphanReport): Promise<number> {
  const { signal, budget, now } = options;
  // Read once per hour of the page; read again just before each delete.
  const indexed = async (o: Found): Promise<Set<string> | BackupError> => {
    try {
      // An entry repeating an object number off the chain (a dead sink's) does not keep its object.
      return new Set(withoutRepeats((await readHourIndex(loc, name, o.timeline, o.hour, signal))?.objects ?? [], checkpoint).map((e) => e.key));
    } catch (error) {
      if (error instanceof BackupError) return error;
      throw error;
    }
  };
  const byHour = new Map<string, Found[]>();
  for (const [at, { key, lastModified }] of listed.entries()) {
    const found = parseObjectKey(key, key.slice(folder.length), at);
    if (!found) continue;
    found.lastModified = lastModified;
    const hourKey = `${found.timeline}/${found.hour}`;
    byHour.set(hourKey, [...(byHour.get(hourKey) ?? []), found]);
  }
  for (const objects of byHour.values()) {
    // Each hour's index read is asked of the budget as one more page of the stream's listing
    // (a page can span many hours: their reads must not run the invocation past its reserve);
    // refused, the sweep stops before the hour's first key and continues there next run.
    if (!budget.allowsPage(`${folder}t`)) return objects[0]!.at;
    const index = await indexed(objects[0]!);
    if (index instanceof BackupError) {
      const key = index.problems[0]?.key;
      const top = loc.prefix === '' ? '' : `${loc.prefix}/`;
      report.leftAlone.push({ stream: name, reason: 'index unreadable', hour: new Date(objects[0]!.hour).toISOString(), ...(key ? { key: key.startsWith(top) ? key.slice(top.length) : key } : {}), code: index.code });
      continue;
    }
    const orphans: Found[] = [];
    for (const o of objects) {
      if (index.has(o.key)) continue;
      if (!behindCheckpoint(o, checkpoint)) report.inFlight++;
      // A time the server does not give counts as now: never old enough.
      else if (now - (o.lastModified ?? now) < options.graceMs) report.withinGrace++;
      else orphans.push(o);
    }
    // An index that lists a key S3 does not hold does not describe the hour (a changed byte in
    // an entry's key leaves valid JSON): the object it meant looks unlisted, and is no orphan.
    const gone = orphans.length > 0 ? await firstMissing(loc, index, new Set(listed.map((k) => k.key)), signal) : undefined;
    if (gone !== undefined) {
      const key = hourIndexKey(loc, name, objects[0]!.timeline, objects[0]!.hour);
      const top = loc.prefix === '' ? '' : `${loc.prefix}/`;
      report.leftAlone.push({ stream: name, reason: 'index lists a missing object', hour: new Date(objects[0]!.hour).toISOString(), key: key.startsWith(top) ? key.slice(top.length) : key });
      continue;
    }
    if (options.dryRun) {
      report.objects += orphans.length;
      continue;
    }
    for (const [i, o] of orphans.entries()) {
      if (!budget.allows(1, true)) {
        report.left += orphans.length - i;
        return o.at;
      }
      const again = await indexed(o);
      if (again instanceof BackupError || again.has(o.key)) continue; // listed meanwhile (or unreadable now): not an orphan
      await budget.spend(true, () => deleteOrThrow(loc, o.key, signal));
      report.objects++;
    }
  }
  return listed.length;
}
