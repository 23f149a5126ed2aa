/**
 * Where an outbox records events: one descriptor per capture mode, made by its factory
 * (`redisOutbox`, `mongoEmbeddedOutbox`, `mongoTransactionOutbox`). Each carries the relay's
 * view of the same data (`relay`).
 */
import type { RelayStore } from '../relay/types.js';
import type { RedisLike } from './redis-client.js';

/** The Redis outbox (one Lua script per write). */
export interface RedisOutboxStore {
  readonly mode: 'redis';
  readonly prefix: string;
  /** How long an applied request key is remembered (exactly-once writes). */
  readonly appliedTtlMs: number;
  /** Redis Cluster: how long an idle partition stays in the sweeper's list after its last write. */
  readonly partitionTtlMs: number;
  /** The relay's `mark`: with `'sent'` a write also checks the partition's sent set's type. @default 'delete' */
  readonly mark?: 'delete' | 'sent';
  client(): Promise<RedisLike>;
  readonly relay: RelayStore;
}

export type { MongoEmbeddedOutboxStore } from './mongo-embedded.js';
export type { MongoTransactionOutboxStore } from './mongo-collection.js';

/** Every store descriptor. */
export type OutboxStore = RedisOutboxStore | import('./mongo-embedded.js').MongoEmbeddedOutboxStore | import('./mongo-collection.js').MongoTransactionOutboxStore;
