/**
 * Finding the backup a restore (or a verification) reads: the storage probed, the manifest by
 * id or `'latest'` (of a job), and the refusal of a backup of the other kind than the target.
 */
import { checkKnownKeys, invalidOption, keysOf, stringOption } from '@steadyfn/handler/internal';
import { BackupNotFoundError, RestoreUnsupportedError } from '../errors.js';
import type { Manifest } from '../format/manifest.js';
import { probeS3 } from '../s3/probe.js';
import type { S3Location } from '../s3/client.js';
import { toLocation } from '../target.js';
import { latestManifest, loadManifest } from './load.js';
import type { BackupRef } from './options.js';
import type { RestoreIdentity, RestoreTarget } from './targets.js';

/** Which restore a `restore()` of `manifest` is, as its partial-restore marker names it: the backup id, the manifest's self-checksum, kind `'snapshot'`. */
export function restoreIdentity(manifest: Manifest): RestoreIdentity {
  return { backupId: manifest.backupId, manifestSha256: manifest.selfChecksum.value, kind: 'snapshot' };
}

/** Resolves the storage location (probed) and the backup id; `beforeRead` runs once the options are valid and the storage probed, before the manifest is read. */
export async function openBackup(owner: string, ref: BackupRef, signal?: AbortSignal, beforeRead?: () => Promise<void>): Promise<{ loc: S3Location; manifest: Manifest }> {
  if (ref === null || typeof ref !== 'object') invalidOption(owner, 'backup', 'an object { storage, id }', ref);
  checkKnownKeys(owner, 'backup', ref, keysOf<BackupRef>({ storage: true, id: true, job: true }));
  // A restore only reads (a Multi-Region Access Point is taken); a verification records a verdict (refused).
  const given = toLocation(owner, ref.storage, 'backup.storage', owner === 'verifyBackup' ? 'verdict' : 'read');
  // An id names one folder under backups/: one that could name another ('../x', 'a/b') is refused.
  if (typeof ref.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref.id) || ref.id.includes('..')) invalidOption(owner, 'backup.id', "a backup id (letters, digits, '.', '_', '-'; no '..' or '/') or 'latest'", ref.id);
  const job = ref.job === undefined ? undefined : stringOption(owner, 'backup.job', ref.job);
  const { client } = await probeS3(given, signal);
  await beforeRead?.();
  const loc = { ...given, client };
  const where = `s3://${loc.bucket}/${loc.prefix}`;
  if (ref.id === 'latest') {
    const found = await latestManifest(loc, job, signal);
    if (found === undefined) throw new BackupNotFoundError(`no committed backup${job === undefined ? '' : ` of job "${job}"`} under ${where}`);
    return { loc, manifest: found };
  }
  const manifest = await loadManifest(loc, ref.id, signal);
  if (job !== undefined && manifest.job !== job) {
    throw new BackupNotFoundError(`backup ${ref.id} is of job "${manifest.job}", not "${job}"`, [{ key: ref.id, message: `job "${manifest.job}"` }]);
  }
  return { loc, manifest };
}

/**
 * Refuses a MongoDB backup for a Redis target and the reverse (the targets' `prepare` checks it
 * too; here it comes before the non-empty check, whose refusal would hide it).
 *
 * @throws {RestoreUnsupportedError} the backup's source kind is not the target's
 */
export function refuseOtherKind(manifest: Manifest, target: RestoreTarget): void {
  if (manifest.source.kind === target.kind) return;
  const name = { mongodb: 'MongoDB', redis: 'Redis' }[target.kind] ?? String(target.kind);
  throw new RestoreUnsupportedError(`backup ${manifest.backupId} is a ${manifest.source.kind} backup; this target is ${name}; nothing was written`);
}
