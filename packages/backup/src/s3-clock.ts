/**
 * S3's clock, as the `Date` header of a GET shows it (a 404 carries one too). The job leases
 * judge expiry by it (`@steadyfn/lease`'s S3 store) and objects' `LastModified` is S3's too, so
 * times this package records or judges by are brought to it where a runner's clock may be off:
 * retention's `now` is capped by it (retention-clock.ts), a snapshot's end time floored by it.
 */
import { readObject, type ClockReading } from '@steadyfn/lease/internal-s3';
import { joinKey, type S3Location } from './s3/client.js';

/** S3's `Date` header has 1-second resolution (RFC 7231 IMF-fixdate): the server's time is up to this much later. */
export const DATE_RESOLUTION_MS = 1000;

/**
 * Reads S3's clock with a GET of `key` (relative to the location's prefix; a small object such
 * as a lease, or none: a 404 carries the header too).
 * @throws the SDK's error when the GET fails (other than a 404)
 */
export async function readS3Clock(loc: S3Location, key: string, signal?: AbortSignal): Promise<ClockReading> {
  return (await readObject(loc.client, loc.bucket, joinKey(loc.prefix, key), signal)).clock;
}

/**
 * Now, in epoch ms, never earlier than S3's clock: `Date.now()`, or the `Date` of a GET of `key`
 * when the runner's clock is behind it (the header is truncated to the second, so a runner whose
 * clock agrees keeps its own, milliseconds included). A server that sends no `Date` leaves
 * `Date.now()`.
 * @throws the SDK's error when the GET fails (other than a 404)
 */
export async function notBeforeS3(loc: S3Location, key: string, signal?: AbortSignal): Promise<number> {
  const { date } = await readS3Clock(loc, key, signal);
  const local = Date.now();
  return date === undefined ? local : Math.max(local, date);
}
