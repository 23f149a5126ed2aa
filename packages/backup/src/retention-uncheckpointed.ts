/**
 * Retention's sweep of a stream whose sink died before its first checkpoint. Such a sink wrote
 * object 1 of timeline 1 (and perhaps listed it in its hour's index) and nothing more: a sink
 * checkpoints each object before it writes the next. Nothing refers to those keys — restores
 * start from the checkpoint — and none of their records was acknowledged to the source (acks
 * follow the checkpoint; a relay handing a batch over retries it), so the next sink reads them
 * again and writes its own object 1. They are swept when
 * - the stream has no checkpoint;
 * - every stream object, hourly index and unfinished upload under its timelines is at least
 *   `orphanGraceMs` old (`LastModified`; `Initiated`, which moto fixes at 2010);
 * - retention takes the **stream's lease** itself (`LeaseHeldError` means a sink is running:
 *   left alone as `sink running`), so no sink can start while it deletes; under the lease
 *   it checks again that there is still no checkpoint and nothing new was written.
 * Indexes go before objects, so a stop part way never leaves an index listing a deleted
 * object (a sink would add its own object 1 to that index). The lease object stays: its
 * fencing token only grows. Every delete asks the run's budget first; a lease lost part way
 * stops the stream's sweep.
 */
import { LeaseHeldError } from './errors.js';
import { takeJobLease } from './job-lease.js';
import type { StreamOrphanReport, SweepOptions } from './retention-streams.js';
import { abortOrThrow, deleteOrThrow } from './retention-orphans.js';
import { headObject, type S3Location } from './s3/client.js';
import type { OpenUpload } from './s3/multipart.js';
import { keys } from './target.js';

/** The keys of one stream found under its timelines, by kind. */
export interface StreamKeys {
  objects: Array<{ key: string; lastModified?: number }>;
  indexes: Array<{ key: string; lastModified?: number }>;
  uploads: OpenUpload[];
}

/** The newest time (ms) among the keys; a time the server does not give counts as now. */
function newestOf(found: StreamKeys, now: number): number {
  let newest = 0;
  for (const k of [...found.objects, ...found.indexes]) newest = Math.max(newest, k.lastModified ?? now);
  for (const u of found.uploads) newest = Math.max(newest, u.initiated || now);
  return newest;
}

/**
 * Sweeps stream `name`, which has no checkpoint. `list` reads its keys (called again under the
 * lease). Resolves to `stopped` when the budget ran out part way.
 * @throws {RetentionDeleteError} a delete or abort failed
 * @throws {FencedError} the retention lease was lost
 */
export async function sweepUncheckpointed(loc: S3Location, name: string, found: StreamKeys, list: () => Promise<StreamKeys | undefined>, options: SweepOptions, report: StreamOrphanReport): Promise<'stopped' | void> {
  const { budget, signal, now } = options;
  const total = (f: StreamKeys) => f.objects.length + f.indexes.length + f.uploads.length;
  if (total(found) === 0) return;
  if (now - newestOf(found, now) < options.graceMs) {
    report.withinGrace += found.objects.length;
    report.leftAlone.push({ stream: name, reason: 'never checkpointed, written within the grace period' });
    return;
  }
  if (options.dryRun) {
    report.objects += found.objects.length;
    report.indexes += found.indexes.length;
    report.uploadsAborted += found.uploads.length;
    report.neverCheckpointed.push(name);
    return;
  }
  if (!budget.allows(1, true)) {
    report.left += total(found);
    return 'stopped';
  }
  let lease;
  try {
    lease = await takeJobLease(loc, { key: keys.streamLease(name), label: `stream backup "${name}" (retention)`, leaseMs: options.leaseMs }, signal);
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
    report.leftAlone.push({ stream: name, reason: 'sink running' });
    return;
  }
  try {
    // Under the lease no sink runs: what is there now is all there will be.
    if (await headObject(loc, keys.streamCheckpoint(loc, name), signal)) {
      report.leftAlone.push({ stream: name, reason: 'checkpointed meanwhile' });
      return;
    }
    const current = await list();
    if (!current) return 'stopped';
    if (now - newestOf(current, now) < options.graceMs) {
      report.leftAlone.push({ stream: name, reason: 'never checkpointed, written within the grace period' });
      return;
    }
    const steps: Array<{ kind: 'uploadsAborted' | 'indexes' | 'objects'; run: () => Promise<void> }> = [
      ...current.uploads.map((u) => ({ kind: 'uploadsAborted' as const, run: () => abortOrThrow(loc, u) })),
      ...current.indexes.map((o) => ({ kind: 'indexes' as const, run: () => deleteOrThrow(loc, o.key, signal) })),
      ...current.objects.map((o) => ({ kind: 'objects' as const, run: () => deleteOrThrow(loc, o.key, signal) })),
    ];
    for (const [i, step] of steps.entries()) {
      if (lease.failure()) {
        report.leftAlone.push({ stream: name, reason: 'sink running' });
        return;
      }
      if (!budget.allows(1, true)) {
        report.left += steps.length - i;
        return 'stopped';
      }
      await budget.spend(true, step.run);
      report[step.kind]++;
    }
    report.neverCheckpointed.push(name);
  } finally {
    await lease.release().catch(() => undefined);
  }
}
