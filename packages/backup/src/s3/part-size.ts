/**
 * Multipart sizing within S3's limits (5 MiB – 5 GiB per part, 10,000 parts per object;
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html) and a memory budget.
 *
 * Schedule: part n (1-based) targets `base × 2^floor((n − 1) / 1000)`, capped at `maxPart`.
 * With the default 8 MiB base, the first 1,000 parts hold 7.8 GiB and 10,000 parts about 8 TiB
 * (when the cap allows), so an input of unknown size never needs more than 10,000 parts; a
 * segment also rolls over before part 10,000 whatever the cap.
 *
 * Memory: each part in flight holds at most its target plus one compressor chunk, and one more
 * part is being built, so `(partsInFlight + 1) × maxPart × 1.25 ≤ budget`.
 */
import { freemem, totalmem } from 'node:os';

export const MIB = 1024 * 1024;
/** S3's minimum size of every part but the last. */
export const MIN_PART_BYTES = 5 * MIB;
/** S3's maximum part size. */
export const MAX_PART_BYTES = 5 * 1024 * MIB;
/** S3's maximum number of parts per upload. */
export const MAX_PARTS = 10_000;
/** Parts between two doublings of the part size. */
export const DOUBLE_EVERY = 1_000;
/** Headroom over the part target for compressor lag and buffers. */
const OVERHEAD = 1.25;

/** The part-size plan of one backup run. */
export interface PartPlan {
  basePartBytes: number;
  maxPartBytes: number;
  partsInFlight: number;
  /** The memory budget the plan fits in (bytes). */
  budgetBytes: number;
}

/**
 * The function's memory in bytes: `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (Lambda, MB),
 * `FUNCTION_MEMORY_MB` (Cloud Functions 1st gen), `WEBSITE_MEMORY_LIMIT_MB` (Azure),
 * `__OW_MEMORY_LIMIT_MB` (MB, when the deployment sets it: the OpenWhisk invoker does not);
 * else the container's memory limit (the cgroup limit Node reports as
 * `process.constrainedMemory()`: how Cloud Functions 2nd gen / Cloud Run and OpenWhisk's
 * `docker run --memory` bound a function) when it is below the machine's memory; else the
 * machine's memory (`os.totalmem()`, at most `os.freemem()` + 512 MiB).
 *
 * @param constrainedBytes the container limit in bytes, 0 or ≥ the machine's memory for none
 *   (@default `process.constrainedMemory()`)
 */
export function functionMemoryBytes(env: NodeJS.ProcessEnv = process.env, constrainedBytes: number = containerLimitBytes()): number {
  for (const name of ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'FUNCTION_MEMORY_MB', 'WEBSITE_MEMORY_LIMIT_MB', '__OW_MEMORY_LIMIT_MB']) {
    const mb = Number(env[name]);
    if (Number.isFinite(mb) && mb > 0) return Math.floor(mb * MIB);
  }
  const machine = Math.min(totalmem(), freemem() + 512 * MIB);
  return Number.isFinite(constrainedBytes) && constrainedBytes > 0 && constrainedBytes < totalmem() ? Math.min(constrainedBytes, machine) : machine;
}

/** The cgroup memory limit Node reads (bytes), or 0 where it has none or cannot say. */
function containerLimitBytes(): number {
  const read = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory;
  return typeof read === 'function' ? (read.call(process) ?? 0) : 0;
}

/** Default budget: a quarter of the function's memory (the rest is the runtime, drivers and the user's code). */
export function defaultBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  return Math.floor(functionMemoryBytes(env) / 4);
}

/** The largest part that fits the budget with `partsInFlight` uploads, or 0 when even 5 MiB does not. */
export function maxPartFor(budgetBytes: number, partsInFlight: number): number {
  const fit = Math.floor(budgetBytes / ((partsInFlight + 1) * OVERHEAD));
  if (fit < MIN_PART_BYTES) return 0;
  return Math.min(MAX_PART_BYTES, fit);
}

/** The target size of part `partNumber` (1-based). */
export function partTarget(plan: Pick<PartPlan, 'basePartBytes' | 'maxPartBytes'>, partNumber: number): number {
  const doublings = Math.floor((partNumber - 1) / DOUBLE_EVERY);
  return Math.min(plan.maxPartBytes, plan.basePartBytes * 2 ** Math.min(doublings, 30));
}

/** The most bytes an upload can hold under `plan` before it must roll over (10,000 parts). */
export function capacityBytes(plan: Pick<PartPlan, 'basePartBytes' | 'maxPartBytes'>): number {
  let total = 0;
  for (let block = 0; block < MAX_PARTS / DOUBLE_EVERY; block++) total += DOUBLE_EVERY * partTarget(plan, block * DOUBLE_EVERY + 1);
  return total;
}
