/**
 * Options of `snapshotBackup()`, validated up front (a `ConfigurationError` names the option,
 * what was expected and what was given).
 */
import { checkKnownKeys, intOption, invalidOption, keysOf, msOption, stringOption } from '@steadyfn/handler/internal';
import { writtenStreamNameOption } from '../stream/name.js';
import { MIN_RESERVE_MS } from '../context.js';
import type { SnapshotSource } from '../sources/types.js';
import { keys, toLocation, type S3Target } from '../target.js';
import type { S3Location } from '../s3/client.js';
import { MAX_PART_BYTES, MIB, MIN_PART_BYTES, defaultBudgetBytes, maxPartFor, type PartPlan } from '../s3/part-size.js';

/** Options of `snapshotBackup()`. */
export interface SnapshotBackupOptions {
  /** What to back up: `mongoSource(...)` or `redisSource(...)`. */
  source: SnapshotSource;
  /** Where: `{ client, bucket, prefix? }`. */
  target: S3Target;
  /** Names this backup job: its lease and checkpoint live under `jobs/<job>/`. @default 'snapshot' */
  job?: string;
  /**
   * The stream backup (by `name`, under the same target) whose position is recorded at the
   * start and end, so that a point-in-time restore can replay from it.
   */
  stream?: string;
  /**
   * Memory the upload pipeline may use, bytes. Parts in flight plus the part being built fit in it.
   * @default a quarter of the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, …)
   */
  memoryBudgetBytes?: number;
  /** Parts uploaded at once. @default 3 */
  partsInFlight?: number;
  /** Target size of the first 1,000 parts (compressed); doubles every 1,000 parts up to what the budget allows. @default 8 MiB */
  partSizeBytes?: number;
  /** A segment (one S3 object) is closed after this many compressed bytes. @default 1 GiB */
  segmentBytes?: number;
  /** gzip level 1–9. @default 6 */
  compressionLevel?: number;
  /** How long the job's lease lasts without renewal (it is renewed every third of it). @default 120000 */
  leaseMs?: number;
  /**
   * Time kept free before the deadline for in-flight parts and the checkpoint (ms, at least 1,000:
   * less is refused with `ConfigurationError`, as the checkpoint and the lease's release would run
   * past the deadline). The function's timeout must be longer: a run that starts with no more
   * time does nothing and warns on `ctx.log`. @default 10000
   */
  reserveMs?: number;
}

/** Validated options. */
export interface ResolvedSnapshotOptions {
  source: SnapshotSource;
  loc: S3Location;
  job: string;
  stream: string | undefined;
  plan: PartPlan;
  segmentBytes: number;
  compressionLevel: number;
  leaseMs: number;
  reserveMs: number;
}

const OWNER = 'snapshotBackup';
const KEYS = keysOf<SnapshotBackupOptions>({
  source: true,
  target: true,
  job: true,
  stream: true,
  memoryBudgetBytes: true,
  partsInFlight: true,
  partSizeBytes: true,
  segmentBytes: true,
  compressionLevel: true,
  leaseMs: true,
  reserveMs: true,
});

/** @throws {ConfigurationError} */
export function resolveSnapshotOptions(options: SnapshotBackupOptions): ResolvedSnapshotOptions {
  if (options === null || typeof options !== 'object') invalidOption(OWNER, 'options', 'an object', options);
  checkKnownKeys(OWNER, '', options, KEYS);
  const source = options.source;
  if (!source || typeof source.read !== 'function' || typeof source.describe !== 'function') invalidOption(OWNER, 'source', 'a snapshot source (mongoSource(...) or redisSource(...))', source);
  const loc = toLocation(OWNER, options.target);
  const job = stringOption(OWNER, 'job', options.job, 'snapshot');
  // S3 keys are at most 1,024 bytes: the job's checkpoint key (its longest) must fit with the prefix.
  if (Buffer.byteLength(keys.jobCheckpoint(loc, job)) > 1024) invalidOption(OWNER, 'job', 'a name whose S3 keys fit 1,024 bytes with the prefix (URL-encoded, under jobs/<job>/)', job);
  const stream = options.stream === undefined ? undefined : writtenStreamNameOption(OWNER, 'stream', options.stream, loc);
  const partsInFlight = intOption(OWNER, 'partsInFlight', options.partsInFlight, 3, 1, 64);
  const budgetBytes = intOption(OWNER, 'memoryBudgetBytes', options.memoryBudgetBytes, defaultBudgetBytes(), 1);
  const maxPartBytes = maxPartFor(budgetBytes, partsInFlight);
  if (maxPartBytes === 0) {
    invalidOption(OWNER, 'memoryBudgetBytes', `at least ${Math.ceil(((partsInFlight + 1) * 1.25 * MIN_PART_BYTES) / MIB)} MiB for ${partsInFlight} parts in flight of at least 5 MiB`, budgetBytes);
  }
  const basePartBytes = intOption(OWNER, 'partSizeBytes', options.partSizeBytes, Math.min(8 * MIB, maxPartBytes), MIN_PART_BYTES, MAX_PART_BYTES);
  if (basePartBytes > maxPartBytes) invalidOption(OWNER, 'partSizeBytes', `at most ${maxPartBytes} bytes (memoryBudgetBytes / ((partsInFlight + 1) × 1.25))`, basePartBytes);
  const segmentBytes = intOption(OWNER, 'segmentBytes', options.segmentBytes, 1024 * MIB, MIN_PART_BYTES);
  const compressionLevel = intOption(OWNER, 'compressionLevel', options.compressionLevel, 6, 1, 9);
  const leaseMs = msOption(OWNER, 'leaseMs', options.leaseMs, 120_000, 1000);
  const reserveMs = msOption(OWNER, 'reserveMs', options.reserveMs, 10_000, MIN_RESERVE_MS);
  return { source, loc, job, stream, plan: { basePartBytes, maxPartBytes, partsInFlight, budgetBytes }, segmentBytes, compressionLevel, leaseMs, reserveMs };
}
