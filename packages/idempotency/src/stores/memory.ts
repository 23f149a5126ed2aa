/**
 * A store in this process's memory (a `@steadyfn/lease` memory store): for tests and local
 * development. Records are not shared between instances and die with the process, so it
 * gives no protection in production.
 */
import { memoryLeaseStore } from '@steadyfn/lease';
import type { IdempotencyStore } from '../types.js';
import { idempotencyStoreOf } from './lease.js';

/** What `memoryStore()` returns: the store, and `clear()` for tests. */
export interface MemoryStore extends IdempotencyStore {
  /** Forgets every record. */
  clear(): void;
}

/** An idempotency store in memory; `now` is the clock (epoch ms), for tests. */
export function memoryStore(now: () => number = Date.now): MemoryStore {
  const lease = memoryLeaseStore({ now });
  return { ...idempotencyStoreOf(lease), clear: () => lease.clear() };
}
