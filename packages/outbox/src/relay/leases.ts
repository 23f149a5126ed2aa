/**
 * A round's relay leases: claimed in one batch (one owner token per round, so every mark is
 * fenced by a fresh token) and released in one batch where the store's marks did not.
 */
import { randomUUID } from 'node:crypto';
import type { RelayDeps, RelayRunOptions } from './run-options.js';
import type { AggregateRef, HeldLease, LeasedRef } from './types.js';

/** Claims the aggregates' leases in one batch; those another relay holds are skipped (it sends them, in order). */
export async function claimAll(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions): Promise<LeasedRef[]> {
  const owner = randomUUID();
  const keys = refs.map((ref) => deps.store.leaseKey(ref));
  // One owner token per round: every aggregate's lease names this relay run.
  const results = await deps.lease.claimMany(keys.map((key) => ({ key, owner, leaseMs: options.leaseMs })), { ...(options.signal ? { signal: options.signal } : {}) });
  const leased: LeasedRef[] = [];
  results.forEach((result, i) => {
    if (result.claimed) leased.push({ ref: refs[i]!, lease: { key: keys[i]!, owner, fence: result.fence } });
    else deps.metrics.leased++;
  });
  return leased;
}

/** Releases, in one batch, the leases the store's marks did not already release. Never throws: a lease left held expires. */
export async function release(deps: RelayDeps, leases: ReadonlyArray<HeldLease>, options: RelayRunOptions): Promise<void> {
  if (leases.length === 0) return;
  const signal = options.releaseSignal ?? options.signal;
  await deps.lease.settleMany(leases.map(({ key, owner, fence }) => ({ key, owner, fence })), signal ? { signal } : {}).catch(() => undefined);
}
