/**
 * The lease that keeps one runner on a job (a snapshot job, a stream): `@steadyfn/lease`'s S3
 * store under the target's prefix, renewed every third of `leaseMs` while the job runs
 * (each renewal moves the fence on), released when it stops. A renewal refused because
 * another runner took the job over is reported through `failure()`, and the job stops.
 */
import { s3LeaseStore, type LeaseRecord, type LeaseStore } from '@steadyfn/lease';
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
}

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
 * @throws whatever `refused` makes of the record holding the key
 */
export async function holdLease(
  leases: LeaseStore,
  job: { key: string; label: string; leaseMs: number; data?: string },
  signal: AbortSignal | undefined,
  refused: (record: LeaseRecord) => Error,
): Promise<JobLease> {
  // A fresh token per run: a provider's request id may repeat across retries of one event.
  const owner = uuidv7();
  const claim = await leases.claim({ key: job.key, owner, leaseMs: job.leaseMs, ...(job.data === undefined ? {} : { data: job.data }) }, signal ? { signal } : {});
  if (!claim.claimed) throw refused(claim.record);
  let fence = claim.fence;
  let failure: unknown;
  let renewing: Promise<void> = Promise.resolve();
  const renewal = setInterval(() => {
    renewing = renewing.then(async () => {
      if (failure) return;
      try {
        const renewed = await leases.renew({ key: job.key, owner, fence, leaseMs: job.leaseMs });
        if (renewed.renewed) fence = renewed.fence;
        else failure = new FencedError(`${job.label}: lease lost to another runner`);
      } catch (error) {
        failure ??= error;
      }
    });
  }, Math.max(500, Math.floor(job.leaseMs / 3)));
  renewal.unref?.();
  const stop = async (): Promise<void> => {
    clearInterval(renewal);
    await renewing;
  };
  return {
    owner,
    fence: () => fence,
    failure: () => failure,
    async release() {
      await stop();
      if (!(failure instanceof FencedError)) await leases.settle({ key: job.key, owner, fence });
    },
    abandon: stop,
  };
}
