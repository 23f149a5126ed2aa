/**
 * Snapshot job checkpoints as retention sees them, and the rule that retires an abandoned one.
 *
 * A checkpoint (`jobs/<job>/checkpoint.json`) protects the backup id it names from orphan
 * clean-up: its job is running, or its next invocation resumes it. A job that is never run
 * again would protect it forever, so a checkpoint counts as **abandoned** when
 * - its backup has no manifest (a committed backup's stale checkpoint is the job's to remove),
 * - its job's lease is not held (retention takes it, so no runner can start meanwhile), and
 * - nothing showed the job alive for `abandonedCheckpointMs`: the newest of the checkpoint's
 *   `LastModified` and `updatedAt` (each part saves it), the job lease object's `LastModified`
 *   (each claim, renewal and release writes it), the backup id's own time (UUIDv7) and its
 *   objects' and uploads' times.
 * Retiring one: under the job's lease, the checkpoint is read again (same ETag, still naming
 * the id, still no manifest) and deleted conditionally (`If-Match` where the server honours
 * it: S3 and moto; gofakes3 ignores it on DELETE, and there the job lease alone covers the
 * moment between the check and the delete). The id is then an ordinary orphan. A runner that
 * tries to resume meanwhile is refused the job lease (`LeaseHeldError`); one that took it
 * first keeps its checkpoint; a runner that lost its lease long ago and still writes is
 * refused by the checkpoint's `If-Match` (`FencedError`) and by S3 for its aborted uploads.
 */
import { isRecord } from '@steadyfn/handler/internal';
import { LeaseHeldError } from './errors.js';
import { takeJobLease } from './job-lease.js';
import { getObject, headObject, joinKey, listKeys, type PageGate, type S3Location } from './s3/client.js';
import { deleteIfUnchanged } from './s3/conditional.js';
import type { S3Capabilities } from './s3/probe.js';
import { keys } from './target.js';

/** A job checkpoint naming a backup id. */
export interface JobCheckpoint {
  job: string;
  key: string;
  backupId: string;
  etag: string;
  /** Newest sign the job was alive (ms): the checkpoint's times and its lease object's. */
  aliveAt: number;
  /** The running snapshot's start mark on its stream (`start.stream`), when it has one. */
  streamStart?: { name: string; timeline: number; seq: number };
  /** The stream whose start mark the snapshot has not read yet (`streamPending`): it is starting. */
  streamPending?: string;
}

/**
 * Checkpoints under `jobs/`; `undefined` when one cannot be read (it might name any id), or
 * when `gate` refused a page of the listing or the read of a checkpoint (then the gate says
 * so). The gate is asked before each page and before each checkpoint's GET, as for one more
 * page of `jobs/`: a prefix with very many jobs must not spend the invocation past its
 * reserve, and a caller must not judge from part of the checkpoints.
 */
export async function listJobCheckpoints(loc: S3Location, signal?: AbortSignal, gate?: PageGate): Promise<JobCheckpoint[] | undefined> {
  const root = joinKey(loc.prefix, 'jobs') + '/';
  const found = await listKeys(loc, root, { ...(signal ? { signal } : {}), ...(gate ? { gate } : {}) });
  if (!found.complete) return undefined;
  const leaseTimes = new Map(found.keys.filter((k) => k.key.endsWith('/lease.json')).map((k) => [k.key.slice(0, -'lease.json'.length), k.lastModified ?? Number.POSITIVE_INFINITY]));
  const out: JobCheckpoint[] = [];
  for (const { key, lastModified } of found.keys) {
    if (!key.endsWith('/checkpoint.json')) continue;
    if (gate && !gate.allowsPage(root)) return undefined;
    const object = await getObject(loc, key, signal ? { signal } : {});
    if (!object) continue; // removed since the listing: its run committed or gave up
    let parsed: { backupId?: unknown; updatedAt?: unknown; start?: { stream?: unknown }; streamPending?: unknown };
    try {
      parsed = JSON.parse(object.body.toString('utf8')) as typeof parsed;
    } catch {
      return undefined;
    }
    // JSON that is not an object (`null`, a number, an array) is as unreadable as bad JSON.
    if (!isRecord(parsed) || Array.isArray(parsed)) return undefined;
    if (typeof parsed.backupId !== 'string' || parsed.backupId === '') return undefined;
    const stream = streamOf(parsed);
    if (stream === 'invalid') return undefined;
    const folder = key.slice(0, -'checkpoint.json'.length);
    const updatedAt = typeof parsed.updatedAt === 'string' ? Date.parse(parsed.updatedAt) : Number.NaN;
    // A time the server does not give counts as now: such a checkpoint never looks abandoned.
    const aliveAt = Math.max(lastModified ?? Number.POSITIVE_INFINITY, Number.isFinite(updatedAt) ? updatedAt : 0, leaseTimes.get(folder) ?? 0);
    out.push({ job: decodeURIComponent(folder.slice(folder.lastIndexOf('/', folder.length - 2) + 1, -1)), key, backupId: parsed.backupId, etag: object.etag, aliveAt, ...stream });
  }
  return out;
}

/** A checkpoint's stream start mark or pending stream; `invalid` when either is malformed (the checkpoint then counts as unreadable). */
function streamOf(parsed: { start?: { stream?: unknown }; streamPending?: unknown }): Pick<JobCheckpoint, 'streamStart' | 'streamPending'> | 'invalid' {
  if (parsed.streamPending !== undefined) return typeof parsed.streamPending === 'string' && parsed.streamPending !== '' ? { streamPending: parsed.streamPending } : 'invalid';
  const mark = parsed.start?.stream as { name?: unknown; timeline?: unknown; seq?: unknown } | undefined;
  if (mark === undefined) return {};
  if (mark === null || typeof mark !== 'object' || typeof mark.name !== 'string' || !Number.isSafeInteger(mark.timeline) || !Number.isSafeInteger(mark.seq)) return 'invalid';
  return { streamStart: { name: mark.name, timeline: mark.timeline as number, seq: mark.seq as number } };
}

/** Why an abandoned-looking checkpoint was kept. */
export type RetireRefusal = 'job running' | 'resumed meanwhile' | 'committed meanwhile';

/**
 * Deletes an abandoned checkpoint under its job's lease, if it is still the one judged.
 * Resolves to `retired`, or why it was kept.
 */
export async function retireCheckpoint(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch'>, checkpoint: JobCheckpoint, leaseMs: number, signal?: AbortSignal): Promise<'retired' | RetireRefusal> {
  let lease;
  try {
    lease = await takeJobLease(loc, { key: keys.jobLease(checkpoint.job), label: `snapshot job "${checkpoint.job}" (retention)`, leaseMs }, signal);
  } catch (error) {
    if (error instanceof LeaseHeldError) return 'job running';
    throw error;
  }
  try {
    if (await headObject(loc, keys.manifest(loc, checkpoint.backupId), signal)) return 'committed meanwhile';
    const outcome = await deleteIfUnchanged(loc, caps, checkpoint.key, checkpoint.etag, signal);
    return outcome === 'changed' ? 'resumed meanwhile' : 'retired';
  } finally {
    await lease.release().catch(() => undefined);
  }
}
