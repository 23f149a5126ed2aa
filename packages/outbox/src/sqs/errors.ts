/**
 * Typed errors of the SQS layer. Codes start with `OUTBOX_SQS_` so they never collide with the
 * outbox core's. Per-message problems found while sending are not thrown: they are entries of
 * `SendReport.failed` carrying one of {@link SendFailureCode}'s codes (or SQS's own code).
 */
import { SteadyError } from '@steadyfn/handler/internal';

/**
 * Codes of `SendReport.failed` entries the sender decides itself. An entry SQS refused carries
 * SQS's own code instead (`InvalidMessageContents`, `InternalError`, `ThrottlingException`, …).
 */
export const SendFailureCode = {
  /** The body or an attribute value holds a character SQS refuses. Sender fault. */
  invalidCharacters: 'OUTBOX_SQS_INVALID_CHARACTERS',
  /** Larger than the queue's `MaximumMessageSize` and no claim check could take it. Sender fault. */
  tooLarge: 'OUTBOX_SQS_MESSAGE_TOO_LARGE',
  /** An id, group key, attribute or delay SQS would refuse. Sender fault. */
  invalidMessage: 'OUTBOX_SQS_INVALID_MESSAGE',
  /** The same `id` twice in one `send()` call; the later one is not sent. Sender fault. */
  duplicateId: 'OUTBOX_SQS_DUPLICATE_ID',
  /** Not sent because an earlier message of the same group failed in this call. Retryable. */
  groupBlocked: 'OUTBOX_SQS_GROUP_BLOCKED',
  /** The claim-check object exists with different content. Sender fault. */
  claimCheckConflict: 'OUTBOX_SQS_CLAIM_CHECK_CONFLICT',
  /** Storing the claim-check object failed (S3 unavailable, access denied…). Not a sender fault. */
  claimCheckFailed: 'OUTBOX_SQS_CLAIM_CHECK_FAILED',
  /** The caller's signal aborted before SQS confirmed the message; it may or may not have been accepted. Retryable. */
  aborted: 'OUTBOX_SQS_ABORTED',
} as const;
/**
 * One of the codes the sender decides itself (the values of the {@link SendFailureCode} object,
 * e.g. `'OUTBOX_SQS_MESSAGE_TOO_LARGE'`). A `SendReport.failed` entry's `code` is one of these or
 * a code SQS answered, so compare with the object's members rather than with this type alone.
 * @example
 * ```ts
 * const tooLarge = report.failed.filter((f) => f.code === SendFailureCode.tooLarge);
 * ```
 */
export type SendFailureCode = (typeof SendFailureCode)[keyof typeof SendFailureCode];

/**
 * `send()` was called with something that is not a list of messages (a message without a
 * string `id` or `body`). Thrown before anything is sent. Terminal.
 */
export class SqsSendInputError extends SteadyError {
  override readonly name = 'SqsSendInputError';
  constructor(message: string, field: string, expected: string) {
    super('OUTBOX_SQS_INVALID_INPUT', message, { status: 500, retryable: false, expose: false, issues: [{ field, message, expected }] });
  }
}

/**
 * The queue's attributes (`MaximumMessageSize`, `FifoQueue`) could not be read, so nothing was
 * sent. Retryable unless SQS said the queue does not exist or access is denied.
 */
export class SqsQueueAttributesError extends SteadyError {
  override readonly name = 'SqsQueueAttributesError';
  /**
   * SQS's own error code, as `SendReport.failed` entries carry it (a namespace — the
   * `AWS.SimpleQueueService.` prefix, a `com.amazonaws.sqs#` shape id — and an `Exception` suffix
   * removed): `NonExistentQueue` (the queue does not exist; `QueueDoesNotExist` from ElasticMQ),
   * `AccessDenied`, `ThrottlingException`…, or a network error's code (`ECONNREFUSED`). Also a
   * log field (`logFields.sqsCode`): a name, never a value.
   */
  readonly sqsCode: string;
  constructor(code: string, retryable: boolean, cause: unknown) {
    super('OUTBOX_SQS_QUEUE_ATTRIBUTES', `sqsSender: could not read the queue's attributes (${code})`, { status: 503, retryable, expose: false, cause, logFields: { sqsCode: code } });
    this.sqsCode = code;
  }
}

/**
 * The watchdog's delayed message could not be sent. It is sent before the commit (sent after,
 * a crash in between would leave nothing to recover the events), so the write did not happen.
 * Retryable unless SQS refused for good (the queue does not exist, access denied).
 */
export class WatchdogUnavailableError extends SteadyError {
  override readonly name = 'WatchdogUnavailableError';
  /** SQS's own error code (`NonExistentQueue`, `AccessDenied`, …; see {@link SqsQueueAttributesError.sqsCode}), also `logFields.sqsCode`. */
  readonly sqsCode: string;
  constructor(code: string, retryable: boolean, cause: unknown) {
    super('OUTBOX_SQS_WATCHDOG_UNAVAILABLE', `outbox watchdog: the relay queue did not take the watchdog message (${code}); nothing was written`, { status: 503, retryable, expose: true, cause, logFields: { sqsCode: code } });
    this.sqsCode = code;
  }
}

/**
 * What a claim-check failure is about, which sets its status (whose fault it is):
 * - `pointer`: the message's pointer body is malformed — the message's own fault: 400, so
 *   `terminalErrors: 'ack'` drops it, as a body that is no outbox event;
 * - `reader`: a claim-checked message reached a reader given no claim check (no S3 client) —
 *   the deployment's fault: 500, code `OUTBOX_SQS_CLAIM_CHECK_NO_READER` (fix the deployment, then
 *   redrive the dead-letter queue: the message itself is sound), or a pointer body arrived with no
 *   message attributes (`OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING`: the consumer's receive asks for none),
 *   or the pointer's bucket does not exist for the reader's S3 client (`OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET`,
 *   S3's `NoSuchBucket`: deleted, or the client reaches another account, region or endpoint than the
 *   producer's — fix the client or the producer's bucket, then redrive);
 * - `object`: the object is missing, or its size or SHA-256 differ from the pointer's — the
 *   bucket's: 500.
 * A 500 is kept for the dead-letter queue under every `terminalErrors` setting.
 */
export type ClaimCheckFailureKind = 'pointer' | 'reader' | 'object';

/** The status of each {@link ClaimCheckFailureKind}. */
const STATUS_OF_KIND: Readonly<Record<ClaimCheckFailureKind, 400 | 500>> = { pointer: 400, reader: 500, object: 500 };

/**
 * A claim-check object does not match its pointer: the size or SHA-256 differ, the object is
 * gone, its bucket does not exist for the reader, or the pointer is malformed. Terminal: the same
 * message fails the same way again. Its status follows its {@link ClaimCheckError.kind}: 400 for a
 * malformed pointer (`pointer`: the message's own fault, acknowledged under `terminalErrors: 'ack'`),
 * 500 otherwise — a reader given no `claimCheck` or unable to see the pointer's bucket (`reader`),
 * a missing object, a size or hash mismatch (`object`) — which every setting keeps for the
 * dead-letter queue.
 */
export class ClaimCheckError extends SteadyError {
  override readonly name = 'ClaimCheckError';
  /** What the failure is about: `pointer` (status 400), `reader` or `object` (500). See {@link ClaimCheckFailureKind}. */
  readonly kind: ClaimCheckFailureKind;
  /**
   * @param code - `OUTBOX_SQS_CLAIM_CHECK_MISMATCH` (size or hash), `OUTBOX_SQS_CLAIM_CHECK_MISSING`
   *   (no object), `OUTBOX_SQS_CLAIM_CHECK_INVALID` (a malformed pointer), `OUTBOX_SQS_CLAIM_CHECK_NO_READER`
   *   (no claim check given to the reader: its own code, as the fix is the deployment's, not the message's),
   *   `OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING` (a pointer body received without message attributes:
   *   the consumer's `ReceiveMessage` is to ask for `steadyfn.claimCheck` and `steadyfn.contentEncoding`),
   *   `OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET` (S3's `NoSuchBucket`: the pointer's bucket does not exist for
   *   the reader's S3 client — a configuration fault, not a lost object; the message names the bucket).
   * @param kind - What it is about; sets the status (`pointer` 400, `reader` and `object` 500).
   * @param options.logFields - Logged with the failure (a queue consumer's log shows the code, not
   *   the message): `{ field: 's3' }` or `{ field: 'claimCheck' }` naming the reader's option when
   *   it was given no claim check; `{ bucket }` naming the bucket that does not exist.
   */
  constructor(
    code: 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH' | 'OUTBOX_SQS_CLAIM_CHECK_MISSING' | 'OUTBOX_SQS_CLAIM_CHECK_INVALID' | 'OUTBOX_SQS_CLAIM_CHECK_NO_READER' | 'OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING' | 'OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET',
    message: string,
    kind: ClaimCheckFailureKind,
    options: { cause?: unknown; logFields?: Record<string, string> } = {},
  ) {
    const { cause, logFields } = options;
    super(code, message, { status: STATUS_OF_KIND[kind], retryable: false, expose: false, ...(cause === undefined ? {} : { cause }), ...(logFields === undefined ? {} : { logFields }) });
    this.kind = kind;
  }
}
