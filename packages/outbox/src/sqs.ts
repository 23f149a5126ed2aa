/**
 * `@steadyfn/outbox/sqs`: the parts that call SQS — `sqsSender()` (the relay's `sender`),
 * `outboxWatchdog()` (the outbox's `watchdog`) and `inboxQueue()` (the inbox's `queue`). Their
 * own entry so that only a function that uses them reaches `@aws-sdk/client-sqs` (an optional
 * peer): a consumer that only uses `inbox()` from the root `@steadyfn/outbox` (triggered by the
 * queue, never calling SQS) bundles with esbuild with no SQS SDK installed and no `--external`.
 * The rest of the SQS layer (its types, errors, `messageBytes`, `packBatches`, `sqsLimits`, …)
 * needs no SDK and stays in the root entry.
 *
 * @packageDocumentation
 */
export { sqsSender, type SqsSender, type SqsSenderOptions } from './sqs/sender.js';
export { outboxWatchdog, type OutboxWatchdogOptions } from './sqs/watchdog.js';
export { MAX_WATCHDOG_KEY_LENGTH, watchdogKey } from './sqs/watchdog-message.js';
export { inboxQueue, type InboxQueueOptions } from './sqs/inbox-queue.js';
