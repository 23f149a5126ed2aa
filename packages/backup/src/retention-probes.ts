/**
 * Retention's clean-up of start-up probe leftovers. The probe (s3/probe.ts) writes a few
 * objects and one multipart upload under `<prefix>/.probe/<uuidv7>-…` and removes them when it
 * ends; an invocation that dies during it leaves them, and S3 bills an unfinished upload's parts
 * until it is aborted. A leftover is removed once `orphanGraceMs` has passed since the newest of
 * its probe's time (the UUIDv7 in the key) and its `LastModified` (an upload: the key's time
 * alone — moto answers a fixed 2010 `Initiated`): a probe takes seconds, so one that old is
 * not running. Every delete asks the run's budget first; its listings stop at the deadline.
 */
import type { SweepOptions } from './retention-streams.js';
import { abortOrThrow, deleteOrThrow, uuidv7Time } from './retention-orphans.js';
import { joinKey, listKeys, type S3Location } from './s3/client.js';
import { listUploads } from './s3/multipart.js';

/** What the probe clean-up did (planned, in a dry run). */
export interface ProbeLeftoverReport {
  objects: number;
  uploadsAborted: number;
  /** Leftovers younger than `orphanGraceMs` (a probe may be running). */
  withinGrace: number;
}

/** The probe's time (ms) from a key `…/.probe/<uuidv7>-<what>`; undefined for another key. */
function probeTime(key: string): number | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return uuidv7Time(name.slice(0, 36));
}

/**
 * Removes what killed probes left under `.probe/`.
 * @throws {RetentionDeleteError} a delete or abort failed
 * @throws {FencedError} the retention lease was lost
 */
export async function sweepProbes(loc: S3Location, options: Omit<SweepOptions, 'leaseMs'>): Promise<ProbeLeftoverReport> {
  const { budget, signal, now } = options;
  const report: ProbeLeftoverReport = { objects: 0, uploadsAborted: 0, withinGrace: 0 };
  const root = joinKey(loc.prefix, '.probe') + '/';
  const uploads = await listUploads(loc, root, { signal, gate: budget });
  const objects = uploads.complete ? await listKeys(loc, root, { ...(signal ? { signal } : {}), gate: budget }) : undefined;
  if (!objects?.complete) return report;
  // A key without a probe's time is not the probe's: left alone.
  const old = (key: string, lastModified: number | undefined): boolean | undefined => {
    const made = probeTime(key);
    if (made === undefined) return undefined;
    return now - Math.max(made, lastModified ?? made) >= options.graceMs;
  };
  const work: Array<{ kind: 'objects' | 'uploadsAborted'; run: () => Promise<void> }> = [];
  for (const u of uploads.uploads) {
    const judged = old(u.key, undefined);
    if (judged === false) report.withinGrace++;
    if (judged) work.push({ kind: 'uploadsAborted', run: () => abortOrThrow(loc, u) });
  }
  for (const o of objects.keys) {
    const judged = old(o.key, o.lastModified);
    if (judged === false) report.withinGrace++;
    if (judged) work.push({ kind: 'objects', run: () => deleteOrThrow(loc, o.key, signal) });
  }
  for (const step of work) {
    if (!options.dryRun) {
      if (!budget.allows(1, true)) break;
      await budget.spend(true, step.run);
    }
    report[step.kind]++;
  }
  return report;
}
