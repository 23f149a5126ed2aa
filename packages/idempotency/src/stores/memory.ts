/**
 * A store in this process's memory: for tests and local development. Records are not shared
 * between instances and die with the process, so it gives no protection in production.
 */
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord } from '../types.js';

type Entry = (StoredRecord & { owner?: string }) & { until: number };

export interface MemoryStore extends IdempotencyStore {
  /** Forgets every record. */
  clear(): void;
}

export function memoryStore(now: () => number = Date.now): MemoryStore {
  const records = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = records.get(key);
    if (entry && entry.until <= now()) {
      records.delete(key);
      return undefined;
    }
    return entry;
  };

  const view = (entry: Entry): StoredRecord =>
    entry.status === 'completed'
      ? { status: 'completed', fingerprint: entry.fingerprint, result: entry.result, expiresAt: entry.expiresAt }
      : { status: 'in_progress', fingerprint: entry.fingerprint, leaseUntil: entry.leaseUntil };

  const claim = (request: ClaimRequest): ClaimResult => {
    const existing = live(request.key);
    if (existing) return { claimed: false, record: view(existing) };
    records.set(request.key, { status: 'in_progress', fingerprint: request.fingerprint, leaseUntil: request.leaseUntil, owner: request.owner, until: request.leaseUntil });
    return { claimed: true };
  };

  const settle = (request: CompleteRequest | ReleaseRequest): boolean => {
    const existing = live(request.key);
    if (!existing || existing.status !== 'in_progress' || existing.owner !== request.owner) return false;
    if (isCompleteRequest(request)) {
      records.set(request.key, { status: 'completed', fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt, until: request.expiresAt });
    } else {
      records.delete(request.key);
    }
    return true;
  };

  return {
    async claim(request) {
      return claim(request);
    },
    async claimMany(requests) {
      return requests.map(claim);
    },
    async complete(request) {
      return settle(request);
    },
    async release(request) {
      return settle(request);
    },
    async completeMany(requests) {
      return requests.map(settle);
    },
    async get(key) {
      const entry = live(key);
      return entry ? view(entry) : undefined;
    },
    clear() {
      records.clear();
    },
  };
}
