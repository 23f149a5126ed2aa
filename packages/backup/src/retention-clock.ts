/**
 * The clock retention judges ages by (`keepMs`, `pitrWindowMs`, the orphan grace, abandoned
 * checkpoints) when no `now` is given: the runner's, but never more than S3's clock allows. A
 * runner whose clock runs minutes ahead would otherwise delete backups and a fresh run's
 * objects minutes early; the job leases already judge expiry by S3's clock alone
 * (`@steadyfn/lease`'s S3 store), and objects' `LastModified` is S3's too.
 */
import { DATE_RESOLUTION_MS, readS3Clock } from './s3-clock.js';
import type { S3Location } from './s3/client.js';
import { keys } from './target.js';

/**
 * Now, in epoch ms: `Date.now()`, capped at the latest S3's clock can be — the `Date` header of
 * a GET (of the retention lease's object; a 404 carries one too) plus its resolution and the
 * round trip. Equal to `Date.now()` when the clocks agree; a runner behind S3 keeps its own
 * (it only deletes later). A server that sends no `Date` leaves `Date.now()`.
 * @throws the SDK's error when the GET fails (other than a 404)
 */
export async function retentionNow(loc: S3Location, signal?: AbortSignal): Promise<number> {
  const clock = await readS3Clock(loc, keys.retentionLease(), signal);
  const local = Date.now();
  if (clock.date === undefined) return local;
  return Math.min(local, clock.date + DATE_RESOLUTION_MS + Math.max(0, clock.receivedAt - clock.sentAt));
}
