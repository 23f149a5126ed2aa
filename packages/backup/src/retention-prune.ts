/**
 * Stream pruning (`applyRetention()` with `stream`): the stream's objects that no kept backup's
 * start mark (nor, with `job`, another job's backup) still needs, an hour's index first, then
 * its objects, all or none; the pruned record written before the first delete, so a restore
 * that meets a pruned hour says so. Damaged checkpoints, pruned records and hour indexes are
 * reported and leave their part alone (retention-damaged.ts).
 */
import type { Manifest } from './format/manifest.js';
import type { DeleteBudget } from './retention-budget.js';
import { damagedHourIndex, damagedStreamCheckpoint, damagedStreamPrunedRecord, isDamage, noteDamaged } from './retention-damaged.js';
import { deleteOrThrow } from './retention-orphans.js';
import { holdFor, type StreamMark } from './retention-candidates.js';
import type { RetentionReport } from './retention-report.js';
import { joinKey, type S3Location } from './s3/client.js';
import { readStreamCheckpoint, type StreamCheckpoint } from './stream/checkpoint.js';
import { readHourIndex, type HourIndex } from './stream/objects.js';
import { isPruned, readPruned, recordPruned } from './stream/pruned.js';
import { keys } from './target.js';

/**
 * Deletes stream objects older than the oldest kept snapshot's start mark and than `held` (every kept backup's mark, the
 * oldest start mark on the stream of another job's backup, with `job`: never pruned for one
 * job what another job's snapshot needs), an hour's index first, then its objects, all or none.
 */
export async function pruneStream(loc: S3Location, name: string, oldest: Manifest, held: StreamMark | null, dryRun: boolean, budget: DeleteBudget, report: RetentionReport, signal?: AbortSignal): Promise<number> {
  const own = oldest.start.stream;
  if (!own || own.name !== name) return 0;
  const mark = holdFor(held, oldest, name)!;
  // A stream that has never checkpointed (snapshots marked before its first sink ran) has nothing to prune.
  let checkpoint: StreamCheckpoint | undefined;
  try {
    checkpoint = (await readStreamCheckpoint(loc, name, signal))?.value;
  } catch (error) {
    // Damaged (or of a newer format): which hours hold objects is unknown, so none is deleted —
    // reported (once: the holds' read may have met it), the backups handled as usual. A failed or
    // aborted read still stops the run.
    if (!isDamage(error) || signal?.aborted) throw error;
    noteDamaged(report.damaged, damagedStreamCheckpoint(loc, name, keys.streamCheckpoint(loc, name), error));
    return 0;
  }
  if (!checkpoint) return 0;
  let count = 0;
  let recorded = false;
  let recordRead = false;
  // Each hour's index read is asked of the budget as one more page of the stream's listing (as
  // the sweep's are: retention-streams.ts): a checkpoint can list very many hours.
  const timelines = `${joinKey(loc.prefix, 'streams', encodeURIComponent(name))}/t`;
  for (const h of checkpoint.hours) {
    if (!isPruned(mark, h.timeline, h.lastSeq)) continue; // needed by the oldest kept snapshot (or by another job's backup)
    if (!dryRun && (budget.stoppedBy || !budget.allowsPage(timelines))) {
      report.left.streamObjects += h.lastSeq - h.firstSeq + 1; // from the checkpoint: nothing more is read once stopped
      continue;
    }
    if (!recordRead) {
      // The pruned record, read before the first index (dry runs too): damaged (or of a newer
      // format), nothing of the stream is deleted this run — a restore could not tell what it
      // deleted from lost — and the record is not written over: what it said is unknown, and one
      // saying less than was pruned would have restores call a pruned range lost. Reported; the
      // backups handled as usual. A failed or aborted read still stops the run.
      recordRead = true;
      try {
        await readPruned(loc, name, signal);
      } catch (error) {
        if (!isDamage(error) || signal?.aborted) throw error;
        noteDamaged(report.damaged, damagedStreamPrunedRecord(loc, name, keys.streamPruned(loc, name), error));
        return 0;
      }
    }
    const indexKey = `${keys.streamHour(loc, name, h.timeline, h.hour)}/index.json`;
    let index: HourIndex | undefined;
    try {
      index = await readHourIndex(loc, name, h.timeline, h.hour, signal);
    } catch (error) {
      // Damaged (or of a newer format): which objects it lists is unknown, so none of its hour is
      // deleted — reported, and every other hour pruned as usual (the sweep leaves the hour alone
      // too: retention-streams.ts). A failed or aborted read still stops the run.
      if (!isDamage(error) || signal?.aborted) throw error;
      report.damaged.push(damagedHourIndex(loc, name, indexKey, h, error));
      continue;
    }
    // No index (a run killed, or a delete failed, after it deleted the index and before every
    // object): nothing here is the policy's to delete. Its objects — below the mark, needed by no
    // kept snapshot, and no index lists them — are the stream sweep's orphans once `orphanGraceMs`
    // old (retention-streams.ts).
    if (!index) continue;
    if (!dryRun && !budget.allows(index.objects.length + 1, false)) {
      report.left.streamObjects += index.objects.length;
      continue; // counted; nothing more starts
    }
    count += index.objects.length;
    if (dryRun) continue;
    if (!recorded) {
      // Before the first delete: a restore that meets a pruned hour then says it was pruned, not lost.
      await recordPruned(loc, name, lastObsolete(checkpoint.hours, mark), signal);
      recorded = true;
    }
    await budget.spend(false, () => deleteOrThrow(loc, indexKey, signal));
    for (const o of index.objects) await budget.spend(false, () => deleteOrThrow(loc, o.key, signal));
  }
  return count;
}

/** The newest (timeline, object number) of the hours older than the mark: how far this run prunes. */
function lastObsolete(hours: StreamCheckpoint['hours'], mark: { timeline: number; seq: number }): { timeline: number; seq: number } {
  let through = { timeline: 1, seq: 0 };
  for (const h of hours) {
    if (isPruned(mark, h.timeline, h.lastSeq) && (h.timeline > through.timeline || (h.timeline === through.timeline && h.lastSeq > through.seq))) through = { timeline: h.timeline, seq: h.lastSeq };
  }
  return through;
}
