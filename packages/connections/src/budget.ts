/**
 * The connection budget: after a connect, how close the server is to its connection limit,
 * and what to do about it (warn and spread reconnects, or refuse the new client).
 */
import type { Logger } from '@steadyfn/handler';
import { ConnectionBudgetError } from './errors.js';
import { bounded } from './flight.js';
import type { BudgetOptions, BudgetReading } from './spec.js';

/** Defaults of the connection budget (`BudgetOptions`): warn at 80 % of the server's limit; wait up to 1,000 ms before a reconnect while near it. */
export const BUDGET_DEFAULTS = { warnRatio: 0.8, backoffMs: 1_000 } as const;

/** A judged reading: `nearLimit` at `warnRatio`, `shed` at `shedRatio`. */
export interface BudgetVerdict {
  reading: BudgetReading & { ratio: number };
  nearLimit: boolean;
  shed: boolean;
}

class BudgetTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Reads the budget and judges it, logging a warning near the limit. No reading (not
 * allowed, slow, not reported) is no verdict: nothing is blocked.
 */
export async function judgeBudget(
  name: string,
  budget: BudgetOptions,
  read: () => Promise<BudgetReading | undefined>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  log: () => Logger,
): Promise<BudgetVerdict | undefined> {
  let reading: BudgetReading | undefined;
  try {
    reading = await bounded(read, timeoutMs, () => new BudgetTimeoutError(`${name} budget check timed out after ${timeoutMs} ms`), signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    // Managed servers often forbid INFO/serverStatus; a slow answer is no verdict either.
    log().debug('connection budget check failed', { client: name, error: err instanceof Error ? err.name : 'unknown' });
    return undefined;
  }
  if (!reading || !(reading.limit > 0)) return undefined;
  const ratio = reading.used / reading.limit;
  const nearLimit = ratio >= (budget.warnRatio ?? BUDGET_DEFAULTS.warnRatio);
  const shed = budget.shedRatio !== undefined && ratio >= budget.shedRatio;
  if (shed) log().warn('connection budget exhausted; closing the new client', { client: name, used: reading.used, limit: reading.limit });
  else if (nearLimit) log().warn('connection budget nearly used', { client: name, used: reading.used, limit: reading.limit, ratio });
  return { reading: { ...reading, ratio }, nearLimit, shed };
}

/** The error for a shed connect: `Retry-After` is `backoffMs` in whole seconds (at least 1). */
export function shedError(name: string, budget: BudgetOptions, reading: BudgetReading): ConnectionBudgetError {
  const backoffMs = budget.backoffMs ?? BUDGET_DEFAULTS.backoffMs;
  return new ConnectionBudgetError(name, reading.used, reading.limit, Math.max(1, Math.ceil(backoffMs / 1000)));
}
