/**
 * `TargetLock.end` after a failed restore (pure logic, on a fake lease store): where the lock
 * could be dropped (MongoDB's `removeLock`, a claim of generation 1), a failed restore renews
 * before dropping — except when it failed because the target could not be reached, where the
 * renewal would only wait for a driver timeout before the release waits for another. And a
 * claim that took over an older record drops only once no insert based on that record can
 * still land: 55 s (the lease store's no-read renewal of a paused previous holder, up to 35 s
 * after its grant, plus 20 s delivery), on a fake clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LeaseStore } from '@steadyfn/lease';
import { DELIVERY_MS, FAST_SETTLE_MS } from '@steadyfn/lease/internal';
import { RestoreApplyError, RestoreTargetUnavailableError } from '../errors.js';
import { TargetLock } from './lock.js';
import type { RestoreTarget } from './targets.js';

function fakeTarget(fence = 1): { target: RestoreTarget; calls: string[] } {
  const calls: string[] = [];
  const store = {
    claim: async () => (calls.push('claim'), { claimed: true, fence }),
    renew: async () => (calls.push('renew'), { renewed: true, fence: 2 }),
    settle: async () => (calls.push('settle'), true),
  } as unknown as LeaseStore;
  const target = {
    lock: {
      key: 'restore',
      leases: async () => store,
      readLock: async () => undefined,
      readMarker: async () => undefined,
      writeMarker: async () => undefined,
      clearMarker: async () => undefined,
      removeLock: async () => void calls.push('removeLock'),
    },
  } as unknown as RestoreTarget;
  return { target, calls };
}

/** A MongoDB driver error of no server selected, as the driver names it (its message is not read). */
function serverSelectionError(): Error {
  const error = new Error('Server selection timed out');
  error.name = 'MongoServerSelectionError';
  return error;
}

describe('TargetLock.end after a failed restore', () => {
  it('renews and drops the lock when the restore failed for another reason', async () => {
    const { target, calls } = fakeTarget();
    const lock = new TargetLock(target, 60_000);
    await lock.take('b1');
    await lock.end(false, new RestoreApplyError('writing to users failed (MongoServerError 2)', Object.assign(new Error('x'), { name: 'MongoServerError', code: 2 })));
    expect(calls).toEqual(['claim', 'renew', 'removeLock']);
  });

  it.each([
    ['RestoreTargetUnavailableError', () => new RestoreTargetUnavailableError('restore: the target could not be reached (MongoServerSelectionError); nothing was written')],
    ['RestoreApplyError caused by no server selected', () => new RestoreApplyError('writing to users failed (MongoServerSelectionError)', serverSelectionError())],
    ['the driver error itself', serverSelectionError],
  ])('only releases (no renewal, no drop) when the target could not be reached: %s', async (_what, failure) => {
    const { target, calls } = fakeTarget();
    const lock = new TargetLock(target, 60_000);
    await lock.take('b1');
    await lock.end(false, failure());
    expect(calls).toEqual(['claim', 'settle']);
  });
});

describe('TargetLock.end after taking over an older lock record (fence > 1)', () => {
  afterEach(() => void vi.useRealTimers());

  it.each([
    [40_000, ['claim', 'settle']],
    [56_000, ['claim', 'renew', 'removeLock']],
  ])('%i ms after the claim: %j', async (after, expected) => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const { target, calls } = fakeTarget(3);
    const lock = new TargetLock(target, 120_000);
    await lock.take('b1');
    vi.advanceTimersByTime(after);
    await lock.end(false, new Error('a failure'));
    expect(calls).toEqual(expected);
  });

  // The wait is the lease store's own timing (`@steadyfn/lease/internal`), not a copy of it.
  it.each([
    [FAST_SETTLE_MS + DELIVERY_MS - 1_000, ['claim', 'settle']],
    [FAST_SETTLE_MS + DELIVERY_MS + 1_000, ['claim', 'renew', 'removeLock']],
  ])('the lease store\'s FAST_SETTLE_MS + DELIVERY_MS decide: %i ms after the claim: %j', async (after, expected) => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const { target, calls } = fakeTarget(3);
    const lock = new TargetLock(target, 120_000);
    await lock.take('b1');
    vi.advanceTimersByTime(after);
    await lock.end(false, new Error('a failure'));
    expect(calls).toEqual(expected);
  });
});
