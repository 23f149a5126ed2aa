export { ENVELOPE_VERSION, aggregateKey, parseEnvelope, prepareEvent, serializeEvent } from './envelope.js';
export type { CallerContext, ChangeOp, EventChange, EventDeclaration, EventDeclarations, EventDraft, EventEnvelope, PayloadSchema, PendingEvent } from './envelope.js';
export { toCloudEvent, fromCloudEvent } from './cloudevents.js';
export type { CloudEvent } from './cloudevents.js';
export { childTraceparent } from './context.js';
export type { CallerContextOptions } from './context.js';
export { redisWrite, REDIS_COMMANDS } from './capture/redis.js';
export type { RedisCheck, RedisCommand, RedisCommandName, RedisWrite, RedisWriteResult, WrittenEvent } from './capture/redis.js';
export type { ScriptFragment } from './capture/redis-script.js';
export { streamKeyFor, hashTagOf } from './stores/redis-keys.js';
export {
  ConfigurationError,
  EventInvalidError,
  OutboxFullError,
  PreconditionFailedError,
  WriteConflictError,
  OutboxUnavailableError,
  TransitionError,
  SeqGapError,
  MessageInvalidError,
  UnsupportedServerError,
} from './errors.js';
