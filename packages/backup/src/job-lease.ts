/**
 * The lease that keeps one runner on a job (a snapshot job, a stream): `@steadyfn/lease`'s S3
 * store under the target's prefix, renewed every third of `leaseMs` while the job runs
 * (each renewal moves the fence on), released when it stops. A renewal refused because
 * another runner took the job over is reported through `failure()`, and the job stops.
 */
import type { LeaseRecord, LeaseStore } from '@steadyfn/lease';
import { s3LeaseStore } from '@steadyfn/lease/s3';
import { v7 as uuidv7 } from 'uuid';
import { FencedError, LeaseHeldError } from './errors.js';
import type { S3Location } from './s3/client.js';

/** A held job lease. */
export interface JobLease {
  /** The owner token (one per run). */
  readonly owner: string;
  /** The current fencing token (it grows with each renewal). */
  fence(): number;
  /** The first renewal failure (lost to another runner, or an S3 error), if any. */
  failure(): unknown;
  /** Stops renewing and releases the lease (unless it was lost). */
  release(): Promise<void>;
  /** Stops renewing without releasing (the lease runs out by itself). */
  abandon(): Promise<void>;
  /**
   * Renews now (after any renewal in flight) and resolves once the renewal is confirmed.
   * @throws {FencedError} the lease was lost (or, with `retryUntilExpiry`, may have run out)
   * @throws the renewal's error (a store error), or the earlier failure
   */
  renewNow(): Promise<void>;
}

/** The longest lease `holdLease` keeps: its renewal interval must fit a timer (2^31−1 ms). */
export const MAX_LEASE_MS = 2 ** 31 - 1;

/**
 * Takes the lease at `key` (relative to the target's prefix) for `leaseMs`.
 * @throws {LeaseHeldError} another runner holds it
 */
export async function takeJobLease(loc: S3Location, job: { key: string; label: string; leaseMs: number }, signal?: AbortSignal): Promise<JobLease> {
  const leases = s3LeaseStore({ client: loc.client, bucket: loc.bucket, prefix: loc.prefix ? `${loc.prefix}/` : '' });
  return holdLease(leases, job, signal, (record) => {
    const until = record.state === 'held' ? ` until ${new Date(record.expiresAt).toISOString()}` : '';
    return new LeaseHeldError(`${job.label} is held by another runner${until}`);
  });
}

/**
 * Takes `job.key` in `leases` for `job.leaseMs` (with `job.data` while held) and keeps it:
 * renewed every third of the lease until released or abandoned. Shared by the job leases
 * above and the restore target lock (restore/lock.ts).
 *
 * A job lease stops renewing at its first failure (`failure()` holds it; the job stops). With
 * `retryUntilExpiry` (the restore lock), a renewal that throws is retried on the next tick
 * instead; once the lease may have run out without a confirmed renewal (`leaseMs` after the
 * last confirmed claim or renewal was asked for), `failure()` is a `FencedError`.
 * @throws whatever `refused` makes of the record holding the key
 */
export async function holdLease(
  leases: LeaseStore,
  job: { key: string; label: string; leaseMs: number; data?: string },
  signal: AbortSignal | undefined,
  refused: (record: LeaseRecord) => Error,
  retryUntilExpiry = false,
): Promise<JobLease> {
  // A fresh token per run: a provider's request id may repeat across retries of one event.
  const owner = uuidv7();
  // Measured from before the request: the store's clock started the lease no earlier.
  let confirmedUntil = Date.now() + job.leaseMs;
  const claim = await leases.claim({ key: job.key, owner, leaseMs: job.leaseMs, ...(job.data === undefined ? {} : { data: job.data }) }, signal ? { signal } : {});
  if (!claim.claimed) throw refused(claim.record);
  let fence = claim.fence;
  let failure: unknown;
  let renewing: Promise<void> = Promise.resolve();
  const ranOut = (): void => {
    if (retryUntilExpiry && !failure && Date.now() >= confirmedUntil) failure = new FencedError(`${job.label}: lease may have run out (its renewals failed for leaseMs)`);
  };
  /** One renewal; a refusal is the lease lost (`failure`), a store error is thrown. */
  const renew = async (): Promise<void> => {
    const asked = Date.now();
    const renewed = await leases.renew({ key: job.key, owner, fence, leaseMs: job.leaseMs });
    if (!renewed.renewed) failure = new FencedError(`${job.label}: lease lost to another runner`);
    else {
      fence = renewed.fence;
      confirmedUntil = asked + job.leaseMs;
    }
  };
  const renewOnce = async (): Promise<void> => {
    ranOut();
    if (failure) return;
    try {
      await renew();
    } catch (error) {
      if (!retryUntilExpiry) failure ??= error;
      else ranOut();
    }
  };
  const renewal = setInterval(
    () => {
      renewing = renewing.then(renewOnce);
    },
    Math.min(MAX_LEASE_MS, Math.max(500, Math.floor(job.leaseMs / 3))),
  );
  renewal.unref?.();
  const stop = async (): Promise<void> => {
    clearInterval(renewal);
    await renewing;
  };
  return {
    owner,
    fence: () => fence,
    failure: () => {
      ranOut();
      return failure;
    },
    async release() {
      await stop();
      if (!(failure instanceof FencedError)) await leases.settle({ key: job.key, owner, fence });
    },
    abandon: stop,
    async renewNow() {
      renewing = renewing.then(async () => {
        if (!failure) await renew();
      });
      const done = renewing;
      // The chain goes on after a throwing renewal (the ticks retry or record it themselves).
      renewing = renewing.catch(() => undefined);
      await done;
      ranOut();
      if (failure) throw failure;
    },
  };
}
