/**
 * The verification record of a backup (`backups/<id>/verification.json`): the last
 * verification's level, result and time. Retention and point-in-time restore trust only
 * backups whose last full or drill verification passed.
 */
import { z } from 'zod';
import { getStored, parseStored } from '../format/stored.js';
import { putObject, type S3Location } from '../s3/client.js';
import { keys } from '../target.js';

const verificationSchema = z.object({
  backupId: z.string().min(1),
  level: z.enum(['quick', 'full', 'drill']),
  ok: z.boolean(),
  at: z.string(),
  /** The drill report's key, for a drill. */
  report: z.string().optional(),
  problems: z.array(z.string()),
});

/** A backup's last verification. */
export type VerificationRecord = z.infer<typeof verificationSchema>;

/** Parses a verification record (outside bytes). @throws {BackupCorruptedError} not a verification record */
export function parseVerification(text: string, key: string): VerificationRecord {
  return parseStored(text, verificationSchema, { key, what: 'verification record' });
}

/**
 * Reads a backup's verification record (undefined when it was never verified).
 * @throws {BackupCorruptedError} the record is not a verification record
 */
export async function readVerification(loc: S3Location, backupId: string, signal?: AbortSignal): Promise<VerificationRecord | undefined> {
  const found = await getStored(loc, keys.verification(loc, backupId), verificationSchema, { what: `backup ${backupId} verification record` }, signal);
  const record = found?.value;
  // A record naming another backup (copied by hand) proves nothing about this one.
  if (record && record.backupId !== backupId) return { ...record, ok: false };
  // A quick check reads only the manifest and sizes: it does not make a backup trusted.
  return record && record.level !== 'quick' ? record : record ? { ...record, ok: false } : undefined;
}

/** Writes a backup's verification record. */
export async function writeVerification(loc: S3Location, record: VerificationRecord, signal?: AbortSignal): Promise<void> {
  await putObject(loc, keys.verification(loc, record.backupId), JSON.stringify(record, null, 1), signal ? { signal } : {});
}
