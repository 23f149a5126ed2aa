/**
 * What a restore reports typed, beside its `warnings` text (`RestoreReport.notices`): something
 * the target could not take as backed up, or an assumption the restore had to make about the
 * target. Each has a stable `code` a caller can act on, a count, and where (at most 10 names).
 */

/**
 * - `STREAM_PENDING_NOT_RESTORED`: pending entries (a consumer group's PEL) of a typed stream
 *   whose stream entry was deleted or trimmed before the backup. Redis (7.x too) keeps such ids
 *   in the PEL (`XPENDING` lists them; `XAUTOCLAIM` returns them as deleted), but no command
 *   recreates one: `XCLAIM … FORCE` skips an id the stream does not hold. `count`: entries,
 *   `where`: the streams (keys as backed up, without `keyPrefix`).
 * - `TARGET_VERSION_ASSUMED`: the target refused both `INFO` and `HELLO` (an ACL), so its Redis
 *   version was not read and it was taken as a current server (≥ 7.0: stream counters, group
 *   entries-read and `XGROUP CREATECONSUMER` are written). `count`: 1.
 */
export type RestoreNoticeCode = 'STREAM_PENDING_NOT_RESTORED' | 'TARGET_VERSION_ASSUMED';

/** One typed notice of a restore (see `RestoreNoticeCode`). */
export interface RestoreNotice {
  code: RestoreNoticeCode;
  /** How many things it concerns (`STREAM_PENDING_NOT_RESTORED`: pending entries). */
  count: number;
  /** Which (stream keys, at most 10 named); empty when it concerns the whole target. */
  where: string[];
  /** The same as its line in `warnings`. */
  message: string;
}

/** `names` (deduplicated) as a short list for a message: the first 10 quoted, then how many more. */
export function nameList(names: Iterable<string>): string {
  const list = [...new Set(names)];
  return `${list.slice(0, 10).map((s) => JSON.stringify(s)).join(', ')}${list.length > 10 ? ` and ${list.length - 10} more` : ''}`;
}
