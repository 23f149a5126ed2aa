/**
 * What the outbox did in one invocation, logged once as the `outbox` record at its end and
 * readable on `ctx.outbox.metrics`: the numbers an alarm needs (oldest pending age,
 * quarantined) and those that tune a relay (fill ratios, retries).
 */
import type { SendReport } from './types.js';

/** The invocation's outbox metrics. */
export interface OutboxMetrics {
  /** Events this invocation recorded in its atomic write. */
  recorded: number;
  /** Events SQS accepted and the store marked. */
  sent: number;
  /** Events SQS refused this time (left pending, or quarantined on a sender fault). */
  failed: number;
  /** Entries the sender resent after throttling or a server fault. */
  retries: number;
  /** Aggregates quarantined by this invocation. */
  quarantined: number;
  /** Aggregates skipped because another relay held their lease. */
  leased: number;
  /**
   * Aggregates skipped because they are quarantined: their pending events — a flush's own
   * included — wait for a redrive (`listQuarantined` names them).
   */
  held: number;
  /** `SendMessageBatch` calls. */
  batches: number;
  /** Mean entries per batch / 10 (0-1). */
  fillEntries: number;
  /** Mean bytes per batch / the queue's size limit (0-1). */
  fillBytes: number;
  /** Age in ms of the oldest event still pending among those this invocation looked at; undefined when none was. */
  oldestPendingAgeMs: number | undefined;
  /** Duplicate deliveries the inbox caught. */
  inboxDuplicates: number;
  /** Partitions a sweep skipped because one of their own keys could not be read (see `SweepResult.skipped`). */
  skippedPartitions: number;
}

/** Accumulates metrics over one invocation (or one relay run). */
export class MetricsRecorder {
  recorded = 0;
  sent = 0;
  failed = 0;
  retries = 0;
  quarantined = 0;
  leased = 0;
  held = 0;
  inboxDuplicates = 0;
  skippedPartitions = 0;
  private batches = 0;
  private entries = 0;
  private bytes = 0;
  private oldest: number | undefined;

  /** Adds one sender report (its fill ratios weighted by its calls). */
  addReport(report: SendReport): void {
    this.retries += report.retries;
    this.batches += report.batches;
    this.entries += report.fill.entries * report.batches;
    this.bytes += report.fill.bytes * report.batches;
  }

  /** Notes an event committed at `committedAt` that is (still) pending. */
  pendingSince(committedAt: number, now: number = Date.now()): void {
    const age = Math.max(0, now - committedAt);
    if (this.oldest === undefined || age > this.oldest) this.oldest = age;
  }

  snapshot(): OutboxMetrics {
    return {
      recorded: this.recorded,
      sent: this.sent,
      failed: this.failed,
      retries: this.retries,
      quarantined: this.quarantined,
      leased: this.leased,
      held: this.held,
      batches: this.batches,
      fillEntries: this.batches === 0 ? 0 : this.entries / this.batches,
      fillBytes: this.batches === 0 ? 0 : this.bytes / this.batches,
      oldestPendingAgeMs: this.oldest,
      inboxDuplicates: this.inboxDuplicates,
      skippedPartitions: this.skippedPartitions,
    };
  }
}
