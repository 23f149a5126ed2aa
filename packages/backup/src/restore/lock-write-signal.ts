/**
 * The signal a restore hands its target's writes while it holds the target lock (lock.ts,
 * `TargetLock.writeSignal`): aborted when the caller's signal is, or once the lock is lost.
 */

/**
 * `signal` joined with `lost` (aborted with the `FencedError` of `TargetLock.checkHeld` once the
 * lock may have run out), whose `aborted` and `throwIfAborted()` run `check` first (no I/O: the
 * lease's clock), so a target that asks before each batch sees a lock that ran out while the
 * process was frozen at once, before any timer.
 */
export function lockWriteSignal(lost: AbortSignal, check: () => void, signal?: AbortSignal): AbortSignal {
  const joined = AbortSignal.any(signal ? [signal, lost] : [lost]);
  const aborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
  const throwIfAborted = AbortSignal.prototype.throwIfAborted;
  return Object.defineProperties(joined, {
    aborted: {
      get: () => {
        check();
        return aborted.call(joined) as boolean;
      },
    },
    throwIfAborted: {
      value: () => {
        check();
        throwIfAborted.call(joined);
      },
    },
  });
}
