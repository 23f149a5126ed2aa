/**
 * The SQS layer of `@steadyfn/outbox` that the root entry exports: what needs no SQS SDK (types,
 * errors, sizes, packing). `sqsSender`, `outboxWatchdog` and `inboxQueue` call SQS and are in
 * `@steadyfn/outbox/sqs` (src/sqs.ts). See `README.md` beside this file.
 */
export type { OutboundMessage, SendReport, SentEntry, FailedEntry, SendOptions } from './types.js';
// The S3 claim check itself (s3ClaimCheck, resolveClaimCheck) is in `@steadyfn/outbox/s3`: it loads @aws-sdk/client-s3.
export { CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE, type S3Sender, type ClaimCheck, type ClaimCheckReader, type ClaimCheckOptions, type ClaimCheckPointer, type ReceivedMessage, type S3ClaimCheckCommands } from './claim-check.js';
export { MAX_WATCHDOG_KEY_LENGTH, parseWatchdogMessage, WATCHDOG_ATTRIBUTE, watchdogKey, type WatchdogTarget } from './watchdog-message.js';
export { SendFailureCode, SqsSendInputError, SqsQueueAttributesError, ClaimCheckError, WatchdogUnavailableError, type ClaimCheckFailureKind } from './errors.js';
export { messageBytes } from './size.js';
export { findInvalidCharacter, type InvalidCharacter } from './chars.js';
export { messageGroupId } from './ids.js';
export { packBatches, type PackItem, type PackLimits } from './pack.js';
export * as sqsLimits from './limits.js';
