/**
 * `@steadyfn/outbox`: state change and events in one atomic write, relayed to SQS inside the
 * function, consumed exactly once through an inbox, and workflows on it.
 *
 * @packageDocumentation
 */
export { outbox } from './plugin.js';
export type { OutboxPlugin, OutboxContextBase, OutboxContextOf } from './plugin.js';
export type { OutboxOptions, RelayOptions, Watchdog } from './options.js';
export { inbox, inboxCleanup } from './inbox.js';
export type { InboxOptions, InboxContext, InboxState, InboxCleanupOptions } from './inbox.js';
export type { InboxQueue } from './inbox-redrive.js';
export { transitions } from './transitions.js';
export type { TransitionsOptions, TransitionContext, TransitionResult } from './transitions.js';

export { redisOutbox, redisRelayStore } from './stores/redis.js';
export type { RedisOutboxOptions, RedisRelayStore, RedisRelayStoreOptions } from './stores/redis.js';
export { mongoEmbeddedOutbox } from './stores/mongo-embedded.js';
export type { MongoEmbeddedOutboxOptions, MongoEmbeddedOutboxStore } from './stores/mongo-embedded.js';
export { mongoTransactionOutbox } from './stores/mongo-collection.js';
export type { MongoTransactionOutboxOptions, MongoTransactionOutboxStore } from './stores/mongo-collection.js';
export type { OutboxStore, RedisOutboxStore } from './stores/outbox-store.js';
export type { RedisOutboxContext } from './modes/redis-mode.js';
export type { EmbeddedOutboxContext, EmbeddedUpdateOptions } from './modes/embedded-mode.js';
export type { TransactionOutboxContext } from './modes/transaction-mode.js';
export type { EmbeddedResult } from './capture/mongo-embedded.js';

export { ENVELOPE_VERSION, aggregateKey, parseEnvelope, prepareEvent, serializeEvent } from './envelope.js';
export type { CallerContext, ChangeOp, EventChange, EventDeclaration, EventDeclarations, EventDraft, EventEnvelope, PayloadSchema, PendingEvent } from './envelope.js';
export { toCloudEvent, fromCloudEvent } from './cloudevents.js';
export type { CloudEvent } from './cloudevents.js';
export type { CallerContextOptions } from './context.js';
export { redisWrite, REDIS_COMMANDS } from './capture/redis.js';
export type { RedisCheck, RedisCommand, RedisCommandName, RedisWrite, RedisWriteResult, WrittenEvent } from './capture/redis.js';
export type { ScriptFragment } from './capture/redis-script.js';
export { streamKeyFor, hashTagOf } from './stores/redis-keys.js';
export { ATTRIBUTES } from './relay/message.js';
export type { OutboxMetrics } from './relay/metrics.js';
export type { PoisonPolicy } from './relay/poison.js';
export type { SweepOptions, SweepResult } from './relay/sweeper.js';
export type { AggregateHead, AggregateRef, HeldLease, LeasedRef, QuarantineEntry, QuarantineRef, RedriveOutcome, RelayLease, RelayStore, Sender, SettleItem, StoredEvent, UnreadableQuarantine } from './relay/types.js';
export type { RelayContext, RelayEntries } from './relay/entry.js';
export type { InvocationState } from './invocation.js';
export {
  ConfigurationError,
  EventInvalidError,
  EventInProgressError,
  OutboxFullError,
  PreconditionFailedError,
  WriteConflictError,
  AggregatePartitionError,
  OutboxUnavailableError,
  RelayIncompleteError,
  TransitionError,
  SeqGapError,
  SeqConflictError,
  MessageInvalidError,
  UnsupportedServerError,
  RedriveRefInvalidError,
  QuarantineUnreadableError,
  RelayTargetInvalidError,
} from './errors.js';

// The SQS layer without the SQS SDK (src/sqs/README.md); sqsSender, outboxWatchdog and inboxQueue are in '@steadyfn/outbox/sqs'.
export * from './sqs/index.js';
