/**
 * Shapes the SQS sender takes and returns.
 */
import type { ClaimCheckPointer } from './claim-check.js';

/** One message to send: an outbox event, already serialised. */
export interface OutboundMessage {
  /**
   * Event id (UUIDv7 in the outbox): 1–128 printable ASCII characters without space. Sent as
   * `MessageDeduplicationId` on FIFO queues and used as the claim-check key; unique per `send()`.
   */
  id: string;
  /**
   * The ordering group; the outbox relay passes the aggregate, `aggregateType/aggregateId`.
   * On FIFO queues it becomes the `MessageGroupId` (as is when SQS accepts it, else a stable
   * `sha256:` hash, see `messageGroupId`). On both queue kinds a failed message
   * stops the later messages of its group in the same call. Required on FIFO queues.
   */
  groupKey?: string;
  /** Body as sent (JSON text in the outbox). Characters SQS refuses: see `invalidCharacters`. */
  body: string;
  /**
   * String message attributes, sent as is (`DataType: "String"`). Put the event id and `seq`
   * here on standard queues, where no dedup id carries them. At most 10 with the sender's own
   * markers; they count toward the message size. `null` counts as none; anything else but such
   * an object (an array, a string, a number) fails the message as `OUTBOX_SQS_INVALID_MESSAGE`.
   */
  attributes?: Readonly<Record<string, string>>;
  /**
   * Delay before the message becomes visible, in milliseconds (0–900 000), rounded up to whole
   * seconds for SQS's `DelaySeconds`. Standard queues only: FIFO queues take a delay only as a
   * queue setting, so a FIFO message with a delay fails as `OUTBOX_SQS_INVALID_MESSAGE`.
   * @default 0
   */
  delayMs?: number;
}

/** A message SQS accepted. */
export interface SentEntry {
  id: string;
  /** SQS's `MessageId`. */
  messageId: string;
  /** FIFO only: SQS's `SequenceNumber`. */
  sequenceNumber?: string;
  /** Present when the body went to S3 and the message carries a pointer. */
  claimCheck?: ClaimCheckPointer;
}

/** A message that was not sent (or whose fate is unknown: `OUTBOX_SQS_ABORTED`). */
export interface FailedEntry {
  id: string;
  /** One of `SendFailureCode`, or SQS's own code for an entry SQS refused (`InvalidMessageContents`, `InternalError`…). */
  code: string;
  /** The message itself is at fault: sending it again fails again. The outbox quarantines these. */
  senderFault: boolean;
  /** Sending it again later may succeed (server fault, throttling, blocked behind a failed message of its group). */
  retryable: boolean;
  /**
   * A verdict on this message itself came back: SQS answered for the entry (its `Failed` list,
   * or a whole call refused for this entry alone), or the sender found it at fault before
   * sending. `false` when nothing judged it: the whole call failed (network, timeout,
   * throttling, 5xx, queue missing or access denied — after the retries), the send was aborted,
   * it was held behind a failed message of its group, or its claim-check upload failed for a
   * reason other than a conflict. The outbox counts only judged attempts toward
   * `relay.poison.maxAttempts`, so an outage alone never quarantines an event.
   */
  judged: boolean;
  /** What went wrong, without any payload. */
  message?: string;
}

/** What one `send()` call did. Every message given appears exactly once in `sent` or `failed`. */
export interface SendReport {
  sent: SentEntry[];
  failed: FailedEntry[];
  /** `SendMessageBatch` calls made, including retries and splits. */
  batches: number;
  /** Bytes SQS accepted (messages as SQS counts them, pointers for claim checks). */
  bytes: number;
  /**
   * How full the calls were, from 0 to 1: `entries` = entries sent / (calls × 10), `bytes` =
   * bytes sent / (calls × the batch byte limit). Both 0 when no call was made.
   */
  fill: { entries: number; bytes: number };
  /** Calls repeated after a retryable failure (throttling, server faults, per-entry server errors). */
  retries: number;
  /** Calls answered `BatchRequestTooLong` (or refused as a whole for one entry) and split. */
  splits: number;
}

/** Options for one `send()` call. */
export interface SendOptions {
  /** Stops starting new calls and aborts the ones in flight (pass `ctx.signal`). */
  signal?: AbortSignal;
}
