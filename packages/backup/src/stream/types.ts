/**
 * Streaming backup: records from a source (outbox events, an SQS queue, a Redis stream, a
 * MongoDB collection tailed by a watermark) buffered into gzip NDJSON objects in S3, with the
 * source position checkpointed after each object.
 */

/** One streamed record, as stored (one NDJSON line of a stream object). */
export interface StreamRecord {
  /** Stable event id: a restore drops repeats by it (delivery is at least once). */
  id: string;
  /** The source's position of this record (a Redis stream id, a watermark, an SQS sent time). */
  position: string;
  /** Event time, ISO 8601 (UTC). Point-in-time restore applies records up to the chosen time. */
  time: string;
  /** `upsert` / `delete` change a document; `event` is archived only. */
  op: 'upsert' | 'delete' | 'event';
  /** Collection (or aggregate type) the change belongs to. */
  namespace?: string;
  /** The document's `_id`, canonical EJSON. */
  key?: string;
  /** The full document after the change, canonical EJSON (`upsert`). */
  doc?: string;
  /** The raw event (an outbox envelope, an SQS body): archived as is. */
  payload?: unknown;
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
}

/** A streaming source. Build one with `redisStreamSource()`, `mongoWatermarkSource()`, `sqsSource()` or `outboxSource()`. */
export interface StreamSource {
  readonly kind: string;
  /**
   * Records after `position` (null: from the start), at most `max`. `state` is what the last
   * checkpoint stored. `lastRunAt` is when the stream last checkpointed (to judge retention).
   */
  pull(from: { position: string | null; state: unknown; lastRunAt: string | undefined }, max: number, signal?: AbortSignal): Promise<PulledBatch>;
  /** Called once records are safely in S3 (SQS deletes its messages here). */
  ack?(records: StreamRecord[], signal?: AbortSignal): Promise<void>;
}
