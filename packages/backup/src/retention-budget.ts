/**
 * What bounds one retention run's deletes: the invocation's deadline (`ctx.remainingMs()` and
 * `ctx.signal`, the long-job convention snapshots and streams follow), the orphan batch
 * (`orphanBatchSize`, shared by every orphan sweep of the run) and the retention lease (a run
 * that lost it stops before its next delete). Checked before each delete or group of deletes
 * that must go together, and before each page of a listing (`PageGate`: a bucket with very
 * many keys must not spend the invocation listing); the run then stops, reports why
 * (`stoppedBy`) and what is left (`listingsCut`: the listings it stopped between pages), and
 * the next run continues.
 */
import { FencedError } from './errors.js';
import { remaining, type RunContext } from './context.js';
import type { JobLease } from './job-lease.js';
import type { PageGate } from './s3/client.js';

/** Why a run stopped before it finished. */
export type StopReason = 'deadline' | 'signal' | 'orphanBatchSize';

/** The run's delete budget. */
export interface DeleteBudget extends PageGate {
  /**
   * May `count` more deletes start now? False (and `stoppedBy` set) when the signal aborted or
   * the deadline leaves less than `reserveMs` plus twice the time they are expected to take;
   * with `orphan`, also when the orphan batch has fewer than `count` left. `count` 0 asks
   * whether more reading may start (the deadline and the signal only).
   * @throws {FencedError} the retention lease was lost
   */
  allows(count: number, orphan: boolean): boolean;
  /** Runs one delete (or abort), timing it for the estimate and counting it against the batch when `orphan`. */
  spend<T>(orphan: boolean, work: () => Promise<T>): Promise<T>;
  /**
   * May the next page of the listing of `prefix` be asked for? False (and `stoppedBy` set, the
   * prefix recorded in `listingsCut`) when the signal aborted or the deadline leaves less than
   * `reserveMs` plus twice the last page's time.
   * @throws {FencedError} the retention lease was lost
   */
  allowsPage(prefix: string): boolean;
  /** Set once the budget refused: the run stops there. */
  readonly stoppedBy: StopReason | undefined;
  /** The listings (full key prefixes) a refused page cut, in order. */
  readonly listingsCut: string[];
}

/** A budget for one run. */
export function deleteBudget(options: { ctx: RunContext; reserveMs: number; batchSize: number; lease: JobLease | undefined }): DeleteBudget {
  let batch = options.batchSize;
  let lastMs = 0;
  let lastPageMs = 0;
  let stoppedBy: StopReason | undefined;
  const listingsCut: string[] = [];
  const stop = (reason: StopReason): false => ((stoppedBy ??= reason), false);
  /** The lease, the signal and the deadline for work expected to take `ms`. */
  const allowed = (ms: number): boolean => {
    const failure = options.lease?.failure();
    if (failure instanceof FencedError) throw failure;
    if (failure) throw new FencedError('retention: the lease could not be renewed; stopped before the next delete');
    if (stoppedBy) return false;
    if (options.ctx.signal?.aborted) return stop('signal');
    if (remaining(options.ctx) < options.reserveMs + 2 * ms) return stop('deadline');
    return true;
  };
  return {
    get stoppedBy() {
      return stoppedBy;
    },
    listingsCut,
    allows(count, orphan) {
      if (!allowed(count * lastMs)) return false;
      if (orphan && batch < count) return stop('orphanBatchSize');
      return true;
    },
    allowsPage(prefix) {
      if (allowed(lastPageMs)) return true;
      if (!listingsCut.includes(prefix)) listingsCut.push(prefix);
      return false;
    },
    pageTook(ms) {
      lastPageMs = ms;
    },
    async spend(orphan, work) {
      const started = Date.now();
      const out = await work();
      lastMs = Date.now() - started;
      if (orphan) batch--;
      return out;
    },
  };
}
