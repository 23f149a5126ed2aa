/**
 * The clock retention judges ages by (`keepMs`, `pitrWindowMs`, the orphan grace, abandoned
 * checkpoints) when no `now` is given: the runner's, but never more than S3's clock allows. A
 * runner whose clock runs minutes ahead would otherwise delete backups and a fresh run's
 * objects minutes early; the job leases already judge expiry by S3's clock alone
 * (`@steadyfn/lease`'s S3 store), and objects' `LastModified` is S3's too.
 */
import { readObject } from '@steadyfn/lease/internal';
import { joinKey, type S3Location } from './s3/client.js';
import { keys } from './target.js';

/** S3's `Date` header has 1-second resolution (RFC 7231 IMF-fixdate): the server's time is up to this much later. */
const DATE_RESOLUTION_MS = 1000;

/**
 * Now, in epoch ms: `Date.now()`, capped at the latest S3's clock can be — the `Date` header of
 * a GET (of the retention lease's object; a 404 carries one too) plus its resolution and the
 * round trip. Equal to `Date.now()` when the clocks agree; a runner behind S3 keeps its own
 * (it only deletes later). A server that sends no `Date` leaves `Date.now()`.
 * @throws the SDK's error when the GET fails (other than a 404)
 */
export async function retentionNow(loc: S3Location, signal?: AbortSignal): Promise<number> {
  const { clock } = await readObject(loc.client, loc.bucket, joinKey(loc.prefix, keys.retentionLease()), signal);
  const local = Date.now();
  if (clock.date === undefined) return local;
  return Math.min(local, clock.date + DATE_RESOLUTION_MS + Math.max(0, clock.receivedAt - clock.sentAt));
}
