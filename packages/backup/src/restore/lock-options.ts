/** The `lockMs` option of `restore`, `pointInTimeRestore` and `restoreStream` (lock.ts). */
import { intOption } from '@steadyfn/handler/internal';
import { MAX_LEASE_MS } from '../job-lease.js';

/** Default `lockMs`: how long a restore's lock runs without a renewal (a killed restore's lock runs out after it). */
export const DEFAULT_LOCK_MS = 60_000;

/**
 * A restore's `lockMs` option, checked: an integer of milliseconds from 1000 to `MAX_LEASE_MS`
 * (2^31−1), `DEFAULT_LOCK_MS` (60,000) when `value` is undefined.
 * @param owner the function whose option it is (`restore`, `pointInTimeRestore`, `restoreStream`), named in the error
 * @throws {ConfigurationError} `CONFIG_INVALID` naming `lockMs`: not an integer in that range
 */
export function lockMsOption(owner: string, value: unknown): number {
  return intOption(owner, 'lockMs', value, DEFAULT_LOCK_MS, 1000, MAX_LEASE_MS);
}
