/**
 * Streaming backup: records from a source (outbox events, an SQS queue, a Redis stream, a
 * MongoDB collection tailed by a watermark) buffered into gzip NDJSON objects in S3, with the
 * source position checkpointed after each object.
 */
import { z } from 'zod';
import { BackupCorruptedError } from '../errors.js';
import type { LogLike } from '../context.js';
import { firstIssue } from '../format/stored.js';

/** One streamed record, as stored (one NDJSON line of a stream object). */
export const streamRecordSchema = z.object({
  /** Stable event id: a restore drops repeats by it (delivery is at least once). */
  id: z.string().min(1),
  /** The source's position of this record (a Redis stream id, a watermark, an SQS sent time). */
  position: z.string(),
  /** Event time, ISO 8601 (UTC). Point-in-time restore applies records up to the chosen time. */
  time: z.string().refine((t) => Number.isFinite(Date.parse(t)), 'an ISO 8601 time'),
  /** `upsert` / `delete` change a document (or a Redis key); `event` is archived only. */
  op: z.enum(['upsert', 'delete', 'event']),
  /** Collection (or aggregate type) the change belongs to. */
  namespace: z.string().optional(),
  /** The document's `_id`, canonical EJSON. */
  key: z.string().optional(),
  /** The full document after the change, canonical EJSON (`upsert`). */
  doc: z.string().optional(),
  /** The raw event (an outbox envelope, an SQS body): archived as is. */
  payload: z.unknown().optional(),
  /**
   * An outbox event whose `seq` was at or below its aggregate's last archived one when it was
   * archived (a redelivered copy, or an older event that arrived late): that last `seq`.
   * Point-in-time restore skips such a record when that `seq` was archived before the snapshot's
   * mark (the snapshot holds it, restore/stale.ts). Absent on other records, and on records
   * written before it was recorded (replayed as before).
   */
  stale: z.number().int().min(0).optional(),
});
export type StreamRecord = z.infer<typeof streamRecordSchema>;

/**
 * Parses one line of a stream object.
 * @throws {BackupCorruptedError} not JSON, or not a stream record
 */
export function parseStreamRecord(line: string, key: string, lineNumber: number): StreamRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new BackupCorruptedError('a stream record is not JSON', [{ key, message: `line ${lineNumber}: not JSON` }]);
  }
  const parsed = streamRecordSchema.safeParse(raw);
  if (!parsed.success) throw new BackupCorruptedError('a stream record does not have the expected shape', [{ key, message: `line ${lineNumber}: ${firstIssue(parsed.error)}` }]);
  return parsed.data;
}

/**
 * Something a source found that the run does not archive and must not pass over in silence
 * (documents a watermark source cannot see). Logged as a warning on the run's `ctx.log` and
 * returned in `StreamResult.notices`; never record contents.
 */
export interface StreamNotice {
  /** Stable code, e.g. `WATERMARK_NOT_DATE`. */
  code: string;
  /** How many records it concerns (a lower bound when `countCapped`). */
  count: number;
  /** The count stopped at its cap: there are at least `count`. */
  countCapped?: boolean;
  /** The first such record's key (a document's `_id` as canonical EJSON), to find them by. */
  key?: string;
  /** What it means and what to do (no record contents). */
  message: string;
}

/** What a pull found. */
export interface PulledBatch {
  records: StreamRecord[];
  /** The source has nothing more right now. */
  drained: boolean;
  /** Why records may have been lost since the checkpoint (a trimmed stream, retention passed). */
  gap?: string;
  /** Opaque source state to checkpoint with the records (dedup sets, per-aggregate seqs). */
  state?: unknown;
  /** What the source found and will not archive (see `StreamNotice`). */
  notices?: StreamNotice[];
}

/** A streaming source. Build one with `redisStreamSource()`, `mongoWatermarkSource()`, `sqsSource()` (`@steadyfn/backup/sqs`) or `outboxSource()`. */
export interface StreamSource {
  readonly kind: string;
  /**
   * What this source is among sources of its kind (a Redis stream's key, `<database>.<collection>`
   * and the watermark field, an SQS queue's account and name): recorded in the stream's checkpoint,
   * which a source of another kind or identity is refused (`ConfigurationError` on `name`: its
   * position means nothing there). Without it, only `kind` is compared.
   */
  identity?(signal?: AbortSignal): string | Promise<string>;
  /**
   * Records after `position` (null: from the start), at most `max`. `state` is what the last
   * checkpoint stored. `lastRunAt` is when the stream last checkpointed (to judge retention).
   * `returnBy` (epoch ms) is when the run needs the records back — the invocation's deadline
   * less `reserveMs`, at most `buffer.maxMs` after the oldest buffered record: a source that
   * waits for records (SQS long polling) returns what it has by then, `drained: false`.
   */
  pull(from: { position: string | null; state: unknown; lastRunAt: string | undefined; returnBy?: number }, max: number, signal?: AbortSignal): Promise<PulledBatch>;
  /**
   * Called once records are safely in S3 (SQS deletes its messages here). `log` is the run's
   * (`ctx.log`): what could not be acknowledged is logged there, without record contents.
   */
  ack?(records: StreamRecord[], signal?: AbortSignal, log?: LogLike): Promise<void>;
}

/**
 * The result of one invocation. A run with no time past `reserveMs` at its start stops before
 * any work — no S3 request, no lease, no source call — and returns `stoppedEarly: true`,
 * `reason: 'deadline'`, nothing written and no `timeline` (it read no checkpoint).
 */
export interface StreamResult {
  /** The stream's name. */
  name: string;
  /** Objects written by this invocation. */
  objects: number;
  /** Records written (in those objects) by this invocation. */
  records: number;
  /**
   * The stream's current timeline at the end of the invocation (a gap starts the next one).
   * Undefined when the run stopped before reading the stream's checkpoint (no time past
   * `reserveMs` at its start): which timeline the stream is on was not read.
   */
  timeline?: number;
  /** The timeline broke in this invocation (a gap): take a new snapshot. */
  timelineBroken: boolean;
  /** A new snapshot is needed before point-in-time restore can reach past this run's gap (as `timelineBroken`). */
  snapshotRequired: boolean;
  /** The invocation stopped before the source was drained (`reason` says why). */
  stoppedEarly: boolean;
  /**
   * Why it stopped early (set with `stoppedEarly`): `deadline` — `ctx.remainingMs()` fell
   * under `reserveMs` (at the start: nothing was done, see above); `signal` — `ctx.signal`
   * aborted between two pulls.
   */
  reason?: 'deadline' | 'signal';
  /**
   * What the source found and does not archive (e.g. `WATERMARK_NOT_DATE`: documents whose
   * watermark is not a Date), each also logged as a warning; absent when none.
   */
  notices?: StreamNotice[];
}
