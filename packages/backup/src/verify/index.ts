/**
 * `verifyBackup()`: proof that a backup restores.
 * - `quick`: the manifest's self-checksum and format, every segment present at its size (HEAD).
 * - `full`: every part downloaded, SHA-256 checked, decoded, counted; content hashes recomputed.
 * - `drill`: a restore into a scratch database or key prefix, then counts and content hashes of
 *   what was restored compared with the manifest, and (MongoDB) the restored index definitions; restore time and throughput recorded in a
 *   drill report object (`drills/<backupId>/<drillId>.json`).
 * A failed verification throws (`VerificationFailedError`), so a scheduled invocation fails and
 * the provider's alarm fires: never a silent success.
 */
import { checkKnownKeys, invalidOption, oneOfOption, keysOf } from '@steadyfn/handler/internal';
import { v7 as uuidv7 } from 'uuid';
import { messageWithoutProblems } from '../error-summary.js';
import { BackupError, RestoreTargetRefusedError, RestoreTargetUnavailableError, VerificationFailedError, describeError, withStorageErrors, type BackupProblem } from '../errors.js';
import { logOf, type RunContext } from '../context.js';
import { putObject } from '../s3/client.js';
import { keys } from '../target.js';
import { checkData } from '../restore/check-data.js';
import { openBackup, restoreManifest, type BackupRef } from '../restore/index.js';
import { checkSegmentsPresent } from '../restore/load.js';
import type { RestoreTarget } from '../restore/targets.js';
import { readVerification, writeVerification } from './record.js';
import { LiveTally } from './live-tally.js';
import { compareDrillIndexes, type DrillIndexCheck } from './drill-indexes.js';
import { dropScratch, prepareScratch, type DrillScratch } from './scratch.js';

/** Leeway between this process's clock and the target's when leaving out expiring keys (ms). */
const EXPIRY_LEEWAY_MS = 2000;

/** The scratch target failing before its writes says nothing about the backup: no verdict is recorded. */
function isTargetError(error: unknown): boolean {
  return error instanceof RestoreTargetUnavailableError || error instanceof RestoreTargetRefusedError;
}

/** Options of `verifyBackup()`. */
export interface VerifyBackupOptions {
  backup: BackupRef;
  /** @default 'full' */
  level?: 'quick' | 'full' | 'drill';
  /**
   * For `drill`: a scratch target (`mongoTarget({ db: scratchDb })`, `redisTarget({ client, keyPrefix: 'drill:' })`,
   * or `redisTarget({ client: scratchDbClient })`: a dedicated database, the keys matching the backup's patterns).
   * What the drill restored is removed afterwards (a target without `drop` is reported `dropped: false`).
   */
  scratch?: RestoreTarget;
  /** For `drill`: keep the restored data (and the drill's marker: the next drill from the same storage clears both). @default false */
  keepScratch?: boolean;
}

/** A drill report (also the object written to S3). */
export interface DrillReport {
  drillId: string;
  backupId: string;
  startedAt: string;
  ok: boolean;
  /**
   * Per dataset, counts and content hashes of what was compared. Counts are documents for
   * MongoDB and keys for Redis (a big key's chunk records are not counted: their number depends
   * on the key's encoding on each server; see verify/live-tally.ts). Redis keys whose TTL ended
   * before the read-back finished (plus a leeway of 2 s) are gone from the scratch target by
   * design: they are left out on both sides and counted in `expiredLeftOut`.
   */
  datasets: Array<{
    name: string;
    expectedCount: number;
    restoredCount: number;
    expectedHash: string;
    restoredHash: string;
    expiredLeftOut: number;
    ok: boolean;
    /** MongoDB: the restored indexes compared with the manifest's (name, key, unique, sparse, partialFilterExpression, expireAfterSeconds). */
    indexes?: DrillIndexCheck;
  }>;
  /** Time to check and restore (the recovery time), ms. */
  restoreMs: number;
  /** Compressed bytes per second and records per second of the restore. */
  bytesPerSecond: number;
  recordsPerSecond: number;
  problems: string[];
  /** The restore's `warnings`: the backup's own (e.g. `MONGODB_VIEW_DEFINITION_SAVED`, one per MongoDB view), then what the scratch restore found. */
  warnings: string[];
  /** The scratch target: dropped or not (a failed drop's class and code, or a `note` when the target has no drop or its drop removed nothing), and an earlier drill's leftovers cleared first. */
  scratch: DrillScratch;
}

/** The result of a verification. */
export interface VerifyResult {
  backupId: string;
  level: 'quick' | 'full' | 'drill';
  ok: true;
  records?: number;
  bytes?: number;
  drill?: DrillReport;
  reportKey?: string;
}

/**
 * Verifies a backup and records the result next to it.
 *
 * @example
 * export const drill = handler({}, (_input, ctx) => verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratchDb }) }, ctx));
 * @throws {VerificationFailedError} any check failed (with each problem and the report)
 * @throws {StorageError} S3 failed a read (no verdict is recorded; retryable, except `retryable: false` when S3 refused the request — AccessDenied, NoSuchBucket, bad credentials)
 * @throws {ConfigurationError} a Multi-Region Access Point as `backup.storage.bucket` (the verdict would be about one replica; see `S3Target.bucket`), `drill` without a `scratch` target, or with one that already holds data of the backup's datasets that no earlier drill from the same storage marked (nothing is written), or `id: 'latest'` without `backup.job` on a prefix holding backups of more than one job
 * @throws {RestoreTargetUnavailableError | RestoreTargetRefusedError} the scratch target failed before any write (no verdict is recorded)
 */
export async function verifyBackup(options: VerifyBackupOptions, ctx: RunContext = {}): Promise<VerifyResult> {
  // An S3 failure is no verdict on the backup: a StorageError, nothing recorded.
  return withStorageErrors('verifyBackup: reading the backup', () => verify(options, ctx), ctx.signal, options?.backup?.storage?.bucket);
}

async function verify(options: VerifyBackupOptions, ctx: RunContext): Promise<VerifyResult> {
  if (options === null || typeof options !== 'object') invalidOption('verifyBackup', 'options', 'an object', options);
  checkKnownKeys('verifyBackup', '', options, keysOf<VerifyBackupOptions>({ backup: true, level: true, scratch: true, keepScratch: true }));
  const level = oneOfOption('verifyBackup', 'level', options.level, ['quick', 'full', 'drill'] as const, 'full');
  if (level === 'drill' && (!options.scratch || typeof options.scratch.readBack !== 'function')) invalidOption('verifyBackup', 'scratch', 'a scratch restore target for a drill', options.scratch);
  const signal = ctx.signal;
  const log = logOf(ctx);
  let opened: Awaited<ReturnType<typeof openBackup>>;
  try {
    opened = await openBackup('verifyBackup', options.backup, signal);
  } catch (error) {
    // The inner message carries what to do instead (for 'latest' with a damaged newest manifest: the newest older readable backup).
    if (error instanceof BackupError) throw new VerificationFailedError(`verification of backup ${String(options.backup?.id)} failed: ${error.code}: ${messageWithoutProblems(error)}`, error.problems, { level, error: error.code }, error);
    throw error;
  }
  const { loc, manifest } = opened;
  const fail = async (problems: BackupProblem[], report: unknown): Promise<never> => {
    // Retention and point-in-time restore trust a backup by its record: a failing verdict that
    // could not be written leaves an earlier passing one in place, which must not go unsaid.
    const unrecorded = await writeVerification(loc, { backupId: manifest.backupId, level, ok: false, at: new Date().toISOString(), problems: problems.map((p) => `${p.key}: ${p.message}`) }).then(
      () => undefined,
      (error: unknown) => describeError(error),
    );
    log.error('backup verification failed', { backupId: manifest.backupId, level, problems: problems.length, ...(unrecorded === undefined ? {} : { verdictNotRecorded: unrecorded }) });
    const note = unrecorded === undefined ? '' : ` (its verdict could not be recorded in ${keys.verification(loc, manifest.backupId)}: ${unrecorded}; an earlier passing verification there still makes retention and point-in-time restore trust the backup)`;
    throw new VerificationFailedError(`backup ${manifest.backupId} failed ${level} verification${note}`, problems, report);
  };
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BackupError && !(error instanceof VerificationFailedError) && !isTargetError(error)) return fail(error.problems.length ? [...error.problems] : [{ key: manifest.backupId, message: error.code }], { level, error: error.code });
      throw error;
    }
  };

  if (level === 'quick') {
    await guard(async () => void (await checkSegmentsPresent(loc, manifest, signal)));
    // A passing quick check proves less than a passed full or drill one: it does not replace it
    // (retention and point-in-time restore trust the backup by that record). A failing one does.
    const previous = await readVerification(loc, manifest.backupId, signal).catch(() => undefined);
    if (previous?.ok !== true) await writeVerification(loc, { backupId: manifest.backupId, level, ok: true, at: new Date().toISOString(), problems: [] });
    return { backupId: manifest.backupId, level, ok: true };
  }
  if (level === 'full') {
    const checked = await guard(() => checkData(loc, manifest, signal ? { signal } : {}));
    await writeVerification(loc, { backupId: manifest.backupId, level, ok: true, at: new Date().toISOString(), problems: [] });
    log.info('backup verified', { backupId: manifest.backupId, level, records: checked.records });
    return { backupId: manifest.backupId, level, ok: true, records: checked.records, bytes: checked.bytes };
  }

  const scratch = options.scratch!;
  const drillId = uuidv7();
  const startedAt = new Date().toISOString();
  const reportKey = keys.drill(loc, manifest.backupId, drillId);
  // A drill overwrites and then removes what it restores: it never runs on a target that holds
  // data, except what an earlier drill from this storage left (its marker says so).
  const storageName = `s3://${loc.bucket}/${loc.prefix}`;
  const { clearedLeftoverOf } = await prepareScratch(scratch, manifest, { drillId, backupId: manifest.backupId, storage: storageName, startedAt }, signal);
  // The backup's side of the comparison, tallied while the restore checks every record.
  const expected = new Map(manifest.datasets.map((d) => [d.name, new LiveTally(d.kind)]));
  const tallying: RestoreTarget = {
    ...scratch,
    check: (dataset, line, call) => {
      // A record the target never writes (steadyfn's bookkeeping in an older backup) is not expected back.
      if (!scratch.skips?.(dataset, line)) expected.get(dataset.name)?.add(line);
      return scratch.check(dataset, line, call);
    },
  };
  const datasets: DrillReport['datasets'] = [];
  let restored: Awaited<ReturnType<typeof restoreManifest>>;
  let dropped: Pick<DrillScratch, 'dropped' | 'dropError' | 'note'> = { dropped: false };
  try {
    restored = await guard(() => restoreManifest(loc, manifest, tallying, signal));
    for (const dataset of manifest.datasets) {
      const back = new LiveTally(dataset.kind);
      for await (const line of scratch.readBack(dataset, signal)) back.add(line);
      // Redis keys are counted, not records: a big key's chunks depend on its encoding on each server (live-tally.ts).
      const cutoff = Date.now() + EXPIRY_LEEWAY_MS;
      const want = expected.get(dataset.name)!.live(cutoff);
      const got = back.live(cutoff);
      const indexes = await compareDrillIndexes(dataset, scratch, signal);
      datasets.push({
        name: dataset.name,
        expectedCount: want.count,
        restoredCount: got.count,
        expectedHash: want.hash,
        restoredHash: got.hash,
        expiredLeftOut: want.leftOut,
        ok: got.count === want.count && got.hash === want.hash && (indexes?.ok ?? true),
        ...(indexes ? { indexes } : {}),
      });
    }
  } finally {
    // Also after a failed restore: its partial data would otherwise stay (the next drill clears it by the marker).
    if (!options.keepScratch) dropped = await dropScratch(scratch, manifest, drillId, log, signal);
  }
  const restoreMs = restored.checkMs + restored.applyMs;
  const problems = datasets.flatMap((d) => [
    ...(d.restoredCount !== d.expectedCount
      ? [`restored ${d.restoredCount} ${unit(d.name)}, manifest says ${d.expectedCount}${d.expiredLeftOut > 0 ? ` (leaving out ${d.expiredLeftOut} whose TTL ended)` : ''}`]
      : d.restoredHash !== d.expectedHash
        ? ['restored content hash differs from the manifest']
        : []),
    ...(d.indexes?.differences ?? []),
  ].map((message) => ({ key: d.name, message })));
  function unit(name: string): string {
    return manifest.datasets.find((d) => d.name === name)?.kind === 'redis-keyspace' ? 'keys' : 'records';
  }
  const seconds = Math.max(restoreMs, 1) / 1000;
  const report: DrillReport = {
    drillId,
    backupId: manifest.backupId,
    startedAt,
    ok: problems.length === 0,
    datasets,
    restoreMs,
    bytesPerSecond: Math.round(restored.bytes / restored.reads / seconds),
    recordsPerSecond: Math.round(restored.records / seconds),
    problems: problems.map((p) => `${p.key}: ${p.message}`),
    warnings: restored.warnings,
    scratch: { ...dropped, ...(clearedLeftoverOf === undefined ? {} : { clearedLeftoverOf }) },
  };
  await putObject(loc, reportKey, JSON.stringify(report, null, 1), signal ? { signal } : {});
  if (!report.ok) return fail(problems, report);
  await writeVerification(loc, { backupId: manifest.backupId, level, ok: true, at: new Date().toISOString(), report: reportKey, problems: [] });
  log.info('backup drill passed', { backupId: manifest.backupId, restoreMs, recordsPerSecond: report.recordsPerSecond });
  return { backupId: manifest.backupId, level, ok: true, records: restored.records, drill: report, reportKey };
}
