/**
 * The S3 lease store's objects: one small JSON object per key, holding the key's latest
 * generation (`StoredLease`); how one is read, and the records the store writes that a settle
 * sent again must recognise.
 */
import { LeaseRecordUnreadableError } from '../errors.js';
import type { LeaseRecord, SettleRequest } from '../types.js';

/** A lease as stored in its object. Times are epoch ms on S3's clock. */
export interface StoredLease {
  v: 1;
  /** `h` held, `d` done, `f` released (free). */
  s: 'h' | 'd' | 'f';
  /** The generation (the fence). */
  g: number;
  /** The holder (`h`), who settled (`d`), or empty. */
  o: string;
  /** When the lease or keep time ends (S3's clock). */
  e: number;
  d?: string;
}

/** The lease an object's text holds. @throws LeaseRecordUnreadableError for anything this store did not write. */
export function parseLease(text: string): StoredLease {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LeaseRecordUnreadableError();
  }
  const r = value as Partial<StoredLease> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    r.v === 1 &&
    (r.s === 'h' || r.s === 'd' || r.s === 'f') &&
    Number.isSafeInteger(r.g) &&
    r.g! >= 1 &&
    typeof r.o === 'string' &&
    Number.isFinite(r.e) &&
    (r.d === undefined || typeof r.d === 'string');
  if (!ok) throw new LeaseRecordUnreadableError();
  return r as StoredLease;
}

/** The record `record` shows at `now` (S3's clock), its end converted by `toLocal`; undefined when released or ended. */
export function recordOf(record: StoredLease | undefined, now: number, toLocal: (serverMs: number) => number): LeaseRecord | undefined {
  if (!record || record.s === 'f' || record.e <= now) return undefined;
  const expiresAt = toLocal(record.e);
  if (record.s === 'd') return { state: 'done', fence: record.g, expiresAt, data: record.d ?? '' };
  return { state: 'held', fence: record.g, owner: record.o, expiresAt, ...(record.d === undefined ? {} : { data: record.d }) };
}

/**
 * A released record, the generation after `g`, naming who released it (`owner`): what a
 * holder's release writes, and a failed claim's give-back. The owner lets a release sent
 * again be recognised (`settledAs`); a released record is never live, so nobody reads it as held.
 */
export const released = (g: number, owner: string, now: number): StoredLease => ({ v: 1, s: 'f', g: g + 1, o: owner, e: now });

/**
 * Whether `record` is what settle `r` writes: generation `fence + 1`, by `r.owner`, done with
 * its `data` (or released without). Only the holder of generation `fence` writes that (a
 * takeover writes `fence + 1` held; objects stay, so fences do not repeat): this settle's own
 * earlier send, whose answer was lost — the caller sending it again after an error, or the
 * rest of a `settleMany` one of whose keys threw.
 */
export const settledAs = (r: SettleRequest, record: StoredLease): boolean =>
  record.g === r.fence + 1 && record.o === r.owner && (r.data === undefined ? record.s === 'f' && record.d === undefined : record.s === 'd' && record.d === r.data);
