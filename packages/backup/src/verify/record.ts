/**
 * The verification record of a backup (`backups/<id>/verification.json`): the last
 * verification's level, result and time. Retention and point-in-time restore trust only
 * backups whose last full or drill verification passed.
 */
import { getJson, putObject, type S3Location } from '../s3/client.js';
import { keys } from '../target.js';

/** A backup's last verification. */
export interface VerificationRecord {
  backupId: string;
  level: 'quick' | 'full' | 'drill';
  ok: boolean;
  at: string;
  /** The drill report's key, for a drill. */
  report?: string;
  problems: string[];
}

/** Reads a backup's verification record (undefined when it was never verified). */
export async function readVerification(loc: S3Location, backupId: string, signal?: AbortSignal): Promise<VerificationRecord | undefined> {
  const found = await getJson<VerificationRecord>(loc, keys.verification(loc, backupId), signal);
  const record = found?.value;
  // A quick check reads only the manifest and sizes: it does not make a backup trusted.
  return record && record.level !== 'quick' ? record : record ? { ...record, ok: false } : undefined;
}

/** Writes a backup's verification record. */
export async function writeVerification(loc: S3Location, record: VerificationRecord, signal?: AbortSignal): Promise<void> {
  await putObject(loc, keys.verification(loc, record.backupId), JSON.stringify(record, null, 1), signal ? { signal } : {});
}
