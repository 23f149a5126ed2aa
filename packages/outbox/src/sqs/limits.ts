/**
 * Amazon SQS limits the sender packs and validates against, with the page that states each.
 * Numbers only; every check that uses them lives next to the thing it checks.
 */

/** Entries in one `SendMessageBatch` call (SQS API reference, SendMessageBatch). */
export const MAX_BATCH_ENTRIES = 10;

/**
 * Sum of the sizes of all messages in one `SendMessageBatch` call: a service limit, the same for
 * every queue, 1 MiB since 2025-08-04 (256 KiB before, and still 256 KiB where a partition has not
 * moved). The queue's `MaximumMessageSize` bounds each message, not the batch.
 * (SQS API reference, SendMessageBatch: "the maximum total payload size … 1 MiB".)
 */
export const SERVICE_MAX_BATCH_BYTES = 1_048_576;

/** Largest `MaximumMessageSize` a queue can have, and the default for new queues (SQS quotas). */
export const SERVICE_MAX_MESSAGE_BYTES = 1_048_576;

/** Smallest `MaximumMessageSize` a queue can have (SQS API reference, SetQueueAttributes). */
export const SERVICE_MIN_MESSAGE_BYTES = 1_024;

/** Batch entry `Id`: up to 80 characters from `[A-Za-z0-9_-]`, unique in its batch. */
export const MAX_BATCH_ENTRY_ID_LENGTH = 80;

/** `MessageGroupId` and `MessageDeduplicationId`: up to 128 characters (SQS API reference, SendMessage). */
export const MAX_GROUP_ID_LENGTH = 128;
export const MAX_DEDUPLICATION_ID_LENGTH = 128;

/** Message attributes per message (SQS quotas, messages). */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** Length of a message attribute name (SQS developer guide, message attributes). */
export const MAX_ATTRIBUTE_NAME_LENGTH = 256;

/** Per-message `DelaySeconds`: 0 to 900 seconds, standard queues only (FIFO: queue level only). */
export const MAX_DELAY_MS = 900_000;
