/**
 * Where a retention pass object lives: one key per scope (`job`, `stream`) and policy, under
 * `retention/backups-pass/` (the layout and why: retention-pass.ts), hashed when S3's key limit
 * would be passed, and the key releases before per-policy objects used.
 */
import { createHash } from 'node:crypto';
import { joinKey, type S3Location } from './s3/client.js';
import type { PassPolicy } from './retention-pass-summary.js';

/** The scope part of a pass key: `all`, or `job=<job>&stream=<stream>` (names URI-encoded). */
function scopeOf(policy: Pick<PassPolicy, 'job' | 'stream'>): string {
  const scope = [policy.job === null ? '' : `job=${encodeURIComponent(policy.job)}`, policy.stream === null ? '' : `stream=${encodeURIComponent(policy.stream)}`].filter((p) => p !== '').join('&');
  return scope === '' ? 'all' : scope;
}

/** The file name of a policy's pass object in its scope's folder (`others` reads the policy from it). */
export const POLICY_NAME = /^keepLast=(\d+)&keepMs=(\d+)&pitrWindowMs=(\d+)\.json$/;

/**
 * The key of the pass object:
 * `retention/backups-pass/<scope>/keepLast=<n>&keepMs=<ms>&pitrWindowMs=<ms>.json`, the scope
 * being `all` or, for retention of one `job` or with a `stream`, `job=<job>&stream=<stream>`
 * (names URI-encoded; `sha256=<hex>` of it when a key under it could pass S3's 1,024 bytes). Schedules for different jobs on one prefix, and schedules of one scope
 * with different policies, each keep their own pass instead of discarding each other's.
 */
export function passKey(loc: S3Location, policy: PassPolicy): string {
  return joinKey(loc.prefix, 'retention', 'backups-pass', scopeFolder(loc, policy), `keepLast=${policy.keepLast}&keepMs=${policy.keepMs}&pitrWindowMs=${policy.pitrWindowMs}.json`);
}

/** S3's longest key (bytes). */
export const MAX_KEY_BYTES = 1024;
/** The longest policy part of a pass key (every value at `Number.MAX_SAFE_INTEGER`). */
const LONGEST_POLICY = `keepLast=${Number.MAX_SAFE_INTEGER}&keepMs=${Number.MAX_SAFE_INTEGER}&pitrWindowMs=${Number.MAX_SAFE_INTEGER}.json`;

/**
 * The scope's folder under `retention/backups-pass/`: the scope itself, or, when a pass key
 * under it could pass S3's 1,024-byte key limit (long, URI-encoded `job` and `stream` names;
 * the snapshot job checks only its own keys), `sha256=<hex of the scope>`. Decided by the
 * scope alone, so every policy of a scope shares one folder (`others`).
 */
function scopeFolder(loc: S3Location, policy: Pick<PassPolicy, 'job' | 'stream'>): string {
  const scope = scopeOf(policy);
  if (Buffer.byteLength(joinKey(loc.prefix, 'retention', 'backups-pass', scope, LONGEST_POLICY)) <= MAX_KEY_BYTES) return scope;
  return `sha256=${createHash('sha256').update(scope).digest('hex')}`;
}

/** The key releases before per-policy pass objects used: one per scope (`retention/backups-pass.json`, `retention/backups-pass/<scope>.json`). */
export function legacyPassKey(loc: S3Location, policy: PassPolicy): string {
  const scope = scopeOf(policy);
  return scope === 'all' ? joinKey(loc.prefix, 'retention', 'backups-pass.json') : joinKey(loc.prefix, 'retention', 'backups-pass', `${scope}.json`);
}
