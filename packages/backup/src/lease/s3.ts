/**
 * An owner + lease + fencing-token store on S3 with the interface of `@steadyfn/lease`
 * (claim / claimMany / settle / settleMany / get, plus renew): one small JSON object per key, created with `If-None-Match: *` and
 * taken over or renewed with `If-Match: <etag>`, so two runners can never both hold it.
 * Expiry is judged by S3's clock (the `Date` header of the read that preceded the write; it
 * has 1-second resolution, so leases of a few seconds or more).
 * The fencing token (`fence`) grows by one on every takeover; checkpoints carry it.
 *
 * Kept here until `@steadyfn/lease` has an S3 store; the lead may move it there.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { CallOptions, ClaimResult, LeaseRecord, LeaseStore } from '@steadyfn/lease';
import { putConditional } from '../s3/conditional.js';
import { isNotFound, sendTimed, type S3Location } from '../s3/client.js';
import type { S3Capabilities } from '../s3/probe.js';

/** A lease as stored in its S3 object. Times are epoch ms on S3's clock. */
interface StoredLease {
  key: string;
  owner: string;
  /** Fencing token: strictly increasing per key across takeovers. */
  fence: number;
  state: 'held' | 'released' | 'done';
  expiresAt: number;
  data?: string;
}

/**
 * The lease interface of `@steadyfn/lease` (claim / claimMany / settle / settleMany / get),
 * plus `renew`, which long jobs need: the holder extends its lease (same fence) while nobody
 * has taken it over or settled it.
 */
export interface S3LeaseStore extends LeaseStore {
  /** Extends the lease of `owner`'s generation `fence` by `leaseMs` (from now); false when it was taken over or settled. */
  renew(request: { key: string; owner: string; fence: number; leaseMs: number }, options?: CallOptions): Promise<boolean>;
}

interface Read {
  record: StoredLease | undefined;
  etag: string | undefined;
  now: number;
}

/**
 * An S3 lease store. Keys are S3 keys relative to `loc.prefix`.
 *
 * @example
 * const leases = s3LeaseStore(loc, capabilities);
 * const claim = await leases.claim({ key: 'jobs/nightly/lease.json', owner: ctx.requestId, leaseMs: 60_000 });
 * if (claim.claimed) await leases.renew({ key: 'jobs/nightly/lease.json', owner: ctx.requestId, fence: claim.fence, leaseMs: 60_000 });
 */
export function s3LeaseStore(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, now: () => number = Date.now): S3LeaseStore {
  const fullKey = (key: string): string => (loc.prefix ? `${loc.prefix}/${key}` : key);

  async function read(key: string, signal?: AbortSignal): Promise<Read> {
    try {
      const { output, serverTime } = await sendTimed<{ Body?: { transformToString(): Promise<string> }; ETag?: string }>(
        loc.client,
        new GetObjectCommand({ Bucket: loc.bucket, Key: fullKey(key) }),
        signal,
      );
      const text = output.Body ? await output.Body.transformToString() : '';
      return { record: JSON.parse(text) as StoredLease, etag: output.ETag, now: serverTime ?? now() };
    } catch (error) {
      if (isNotFound(error)) return { record: undefined, etag: undefined, now: (error as { $serverTime?: number }).$serverTime ?? now() };
      throw error;
    }
  }

  async function write(key: string, etag: string | undefined, record: StoredLease, signal?: AbortSignal): Promise<boolean> {
    const result = await putConditional(loc, caps, fullKey(key), etag, JSON.stringify(record), signal ? { signal } : {});
    return result.written;
  }

  /** The live record as the interface shows it (this process's clock). */
  const live = (record: StoredLease | undefined, t: number): LeaseRecord | undefined => {
    if (!record || record.state === 'released' || record.expiresAt <= t) return undefined;
    const local = now() + (record.expiresAt - t);
    return record.state === 'done'
      ? { state: 'done', fence: record.fence, expiresAt: local, data: record.data ?? '' }
      : { state: 'held', fence: record.fence, owner: record.owner, expiresAt: local, ...(record.data === undefined ? {} : { data: record.data }) };
  };

  const store: S3LeaseStore = {
    async claim(input, options = {}) {
      const { record, etag, now: t } = await read(input.key, options.signal);
      const holder = live(record, t);
      if (holder) return { claimed: false, record: holder };
      const fence = (record?.fence ?? 0) + 1;
      const next: StoredLease = { key: input.key, owner: input.owner, fence, state: 'held', expiresAt: t + input.leaseMs, ...(input.data === undefined ? {} : { data: input.data }) };
      if (await write(input.key, etag, next, options.signal)) return { claimed: true, fence, expiresAt: now() + input.leaseMs };
      // Someone else wrote between our read and write: report what holds it now.
      const again = await read(input.key, options.signal);
      return { claimed: false, record: live(again.record, again.now) ?? { state: 'held', fence: next.fence, owner: '', expiresAt: now() } };
    },

    async claimMany(requests, options = {}) {
      const out: ClaimResult[] = [];
      for (const request of requests) out.push(await store.claim(request, options));
      return out;
    },

    async settle(input, options = {}) {
      const { record, etag, now: t } = await read(input.key, options.signal);
      // The holder of this generation may settle even after its lease ran out, if nobody took over.
      if (!record || record.owner !== input.owner || record.fence !== input.fence || record.state !== 'held') return false;
      const next: StoredLease =
        input.data === undefined
          ? { ...record, state: 'released', expiresAt: t }
          : { ...record, state: 'done', data: input.data, expiresAt: t + (input.keepMs ?? 0) };
      return write(input.key, etag, next, options.signal);
    },

    async settleMany(requests, options = {}) {
      const out: boolean[] = [];
      for (const request of requests) out.push(await store.settle(request, options));
      return out;
    },

    async get(key, options = {}) {
      const { record, now: t } = await read(key, options.signal);
      return live(record, t);
    },

    async renew(input, options = {}) {
      const { record, etag, now: t } = await read(input.key, options.signal);
      if (!record || record.owner !== input.owner || record.fence !== input.fence || record.state !== 'held') return false;
      return write(input.key, etag, { ...record, expiresAt: t + input.leaseMs }, options.signal);
    },
  };
  return store;
}
