/**
 * An idempotency store on a `@steadyfn/lease` store: a record is a lease whose data is the
 * payload fingerprint while the function runs, and `<fingerprint>|<result>` once done.
 *
 *   claim      lease claim, leaseMs = leaseUntil − now, data = fingerprint
 *   complete   lease settle with data, keepMs = expiresAt − now
 *   release    lease settle without data
 *
 * The lease needs the fence its claim returned; a request that does not carry it is matched
 * to the claims this process made (by key and owner), else to the record's holder.
 *
 * A claim (or batch claim) that fails holds nothing it wrote: the lease store gives back what
 * its owner holds before it throws (the `LeaseStore` contract, on every store), so this adapter
 * passes the error on as is.
 */
import { LeaseRequestError, type LeaseRecord, type LeaseStore, type SettleRequest } from '@steadyfn/lease';
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord, type StoreCallOptions } from '../types.js';

const FINGERPRINT = /^[A-Za-z0-9_-]*$/;
/** Claims this process remembers the fence of, until they are settled. */
const MAX_REMEMBERED = 10_000;

function checkFingerprint(fingerprint: string, field: string): string {
  if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) throw new LeaseRequestError(field, 'base64url text');
  return fingerprint;
}

/** The idempotency view of a lease record. */
export function storedRecordOf(record: LeaseRecord): StoredRecord {
  if (record.state === 'held') return { status: 'in_progress', fingerprint: record.data ?? '', leaseUntil: record.expiresAt };
  const bar = record.data.indexOf('|');
  // Not written by this adapter: shown as running with an unknown payload, never replayed.
  if (bar < 0) return { status: 'in_progress', fingerprint: '', leaseUntil: record.expiresAt };
  return { status: 'completed', fingerprint: record.data.slice(0, bar), result: record.data.slice(bar + 1), expiresAt: record.expiresAt };
}

function msUntil(epochMs: number, now: number): number {
  return Math.max(1, Math.ceil(epochMs - now));
}

export function idempotencyStoreOf(lease: LeaseStore): IdempotencyStore {
  /**
   * The fence of each claim this process made and has not settled, by key — one holder per key
   * at a time, so the key alone finds it (the plugin passes the same key string to claim and
   * settle, whose hash the engine then computes once); the owner is checked on every read.
   */
  const fences = new Map<string, { owner: string; fence: number }>();

  const remember = (request: ClaimRequest, result: ClaimResult): ClaimResult => {
    if (result.claimed && result.fence !== undefined) {
      if (fences.size >= MAX_REMEMBERED && !fences.has(request.key)) fences.delete(fences.keys().next().value!);
      // A takeover by this process replaces its earlier (lost) claim: that one's settle then asks the store.
      fences.set(request.key, { owner: request.owner, fence: result.fence });
    }
    return result;
  };

  /** The fence this process's claim of `key` by `owner` got, if it remembers one. */
  const knownFence = (key: string, owner: string): number | undefined => {
    const known = fences.get(key);
    return known !== undefined && known.owner === owner ? known.fence : undefined;
  };

  /** Forgets `owner`'s claim of `key` (settled); another owner's claim of it stays. */
  const forget = (key: string, owner: string): void => {
    if (fences.get(key)?.owner === owner) fences.delete(key);
  };

  const claimOf = (request: ClaimRequest, now: number) => ({
    key: request.key,
    owner: request.owner,
    leaseMs: msUntil(request.leaseUntil, now),
    data: checkFingerprint(request.fingerprint, 'fingerprint'),
  });

  const resultOf = (result: Awaited<ReturnType<LeaseStore['claim']>>): ClaimResult =>
    result.claimed ? { claimed: true, fence: result.fence } : { claimed: false, record: storedRecordOf(result.record) };

  /** The fence to settle with, or undefined when `owner` does not hold the record. */
  const fenceOf = async (request: CompleteRequest | ReleaseRequest, options: StoreCallOptions | undefined): Promise<number | undefined> => {
    if (request.fence !== undefined) return request.fence;
    const known = knownFence(request.key, request.owner);
    if (known !== undefined) return known;
    // Another process's claim (or a forgotten one): the holder's fence, if the holder is `owner`.
    const record = await lease.get(request.key, options);
    return record?.state === 'held' && record.owner === request.owner ? record.fence : undefined;
  };

  const settleOf = (request: CompleteRequest | ReleaseRequest, fence: number, now: number): SettleRequest =>
    isCompleteRequest(request)
      ? { key: request.key, owner: request.owner, fence, data: `${checkFingerprint(request.fingerprint, 'fingerprint')}|${request.result}`, keepMs: msUntil(request.expiresAt, now) }
      : { key: request.key, owner: request.owner, fence };

  const settleAll = async (requests: ReadonlyArray<CompleteRequest | ReleaseRequest>, options: StoreCallOptions | undefined): Promise<boolean[]> => {
    const fenceList = await Promise.all(requests.map((r) => fenceOf(r, options)));
    const now = Date.now();
    const settles: SettleRequest[] = [];
    const positions: number[] = [];
    requests.forEach((r, i) => {
      const fence = fenceList[i];
      if (fence === undefined) return;
      settles.push(settleOf(r, fence, now));
      positions.push(i);
    });
    const out = requests.map(() => false);
    if (settles.length === 0) return out;
    const results = settles.length === 1 ? [await lease.settle(settles[0]!, options)] : await lease.settleMany(settles, options);
    results.forEach((ok, j) => {
      out[positions[j]!] = ok;
    });
    for (const r of requests) forget(r.key, r.owner);
    return out;
  };

  /** One record: straight to the lease when this process knows the fence (the usual case). */
  function settleOne(request: CompleteRequest | ReleaseRequest, options?: StoreCallOptions): Promise<boolean> {
    const known = request.fence ?? knownFence(request.key, request.owner);
    if (known === undefined) return settleAll([request], options).then((results) => results[0]!);
    let pending: Promise<boolean>;
    try {
      pending = lease.settle(settleOf(request, known, Date.now()), options);
    } catch (error) {
      return Promise.reject(error);
    }
    return pending.then((ok) => {
      forget(request.key, request.owner);
      return ok;
    });
  }

  return {
    claim(request, options) {
      let pending: ReturnType<LeaseStore['claim']>;
      try {
        pending = lease.claim(claimOf(request, Date.now()), options);
      } catch (error) {
        return Promise.reject(error);
      }
      // A plain `then`, not an async function: one promise fewer on the duplicate path.
      return pending.then((result) => remember(request, resultOf(result)));
    },
    async claimMany(requests, options) {
      if (requests.length === 0) return [];
      const now = Date.now();
      const results = await lease.claimMany(requests.map((r) => claimOf(r, now)), options);
      return results.map((r, i) => remember(requests[i]!, resultOf(r)));
    },
    complete: settleOne,
    release: settleOne,
    completeMany: settleAll,
    async get(key, options) {
      const record = await lease.get(key, options);
      return record && storedRecordOf(record);
    },
    joinable(request) {
      const fence = request.fence ?? knownFence(request.key, request.owner);
      if (fence === undefined) return undefined;
      return { lease, settle: settleOf(request, fence, Date.now()), settled: () => forget(request.key, request.owner) };
    },
  };
}
