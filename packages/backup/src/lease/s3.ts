/**
 * An owner + lease + fencing-token store on S3, behind the shape of `@steadyfn/lease`
 * (claim / settle / get): one small JSON object per key, created with `If-None-Match: *` and
 * taken over or renewed with `If-Match: <etag>`, so two runners can never both hold it.
 * Expiry is judged by S3's clock (the `Date` header of the read that preceded the write; it
 * has 1-second resolution, so leases of a few seconds or more).
 * The fencing token (`fence`) grows by one on every takeover; checkpoints carry it.
 *
 * Kept here until `@steadyfn/lease` has an S3 store; the lead may move it there.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { putConditional } from '../s3/conditional.js';
import { isNotFound, sendTimed, type S3Location } from '../s3/client.js';
import type { S3Capabilities } from '../s3/probe.js';

/** A lease as stored. Times are epoch ms on the store's clock. */
export interface LeaseRecord<D = unknown> {
  key: string;
  owner: string;
  /** Fencing token: strictly increasing per key across takeovers. */
  fence: number;
  /** `held` until settled; `released` (free to claim) or `done` (kept with its data until `keepUntil`). */
  state: 'held' | 'released' | 'done';
  expiresAt: number;
  data?: D;
  keepUntil?: number;
}

/** `claim` input: who claims, for how long. */
export interface ClaimInput<D = unknown> {
  key: string;
  owner: string;
  leaseMs: number;
  data?: D;
}

/** `claim` result: the fence when claimed (or renewed by the same owner), else the record that holds it. */
export type ClaimResult<D = unknown> = { claimed: true; fence: number } | { claimed: false; record: LeaseRecord<D> };

/** `settle` input: release (no `data`) or mark done with `data`, kept `keepMs`. */
export interface SettleInput<D = unknown> {
  key: string;
  owner: string;
  fence: number;
  data?: D;
  keepMs?: number;
}

/** The lease interface (the shape of `@steadyfn/lease`). */
export interface LeaseStore<D = unknown> {
  claim(input: ClaimInput<D>, options?: { signal?: AbortSignal }): Promise<ClaimResult<D>>;
  settle(input: SettleInput<D>, options?: { signal?: AbortSignal }): Promise<boolean>;
  get(key: string, options?: { signal?: AbortSignal }): Promise<LeaseRecord<D> | undefined>;
}

interface Read<D> {
  record: LeaseRecord<D> | undefined;
  etag: string | undefined;
  now: number;
}

/**
 * An S3 lease store. Keys are S3 keys relative to `loc.prefix`.
 *
 * @example
 * const leases = s3LeaseStore(loc, capabilities);
 * const claim = await leases.claim({ key: 'jobs/nightly/lease.json', owner: ctx.requestId, leaseMs: 60_000 });
 */
export function s3LeaseStore<D = unknown>(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, now: () => number = Date.now): LeaseStore<D> {
  const fullKey = (key: string): string => (loc.prefix ? `${loc.prefix}/${key}` : key);

  async function read(key: string, signal?: AbortSignal): Promise<Read<D>> {
    try {
      const { output, serverTime } = await sendTimed<{ Body?: { transformToString(): Promise<string> }; ETag?: string }>(
        loc.client,
        new GetObjectCommand({ Bucket: loc.bucket, Key: fullKey(key) }),
        signal,
      );
      const text = output.Body ? await output.Body.transformToString() : '';
      return { record: JSON.parse(text) as LeaseRecord<D>, etag: output.ETag, now: serverTime ?? now() };
    } catch (error) {
      if (isNotFound(error)) return { record: undefined, etag: undefined, now: (error as { $serverTime?: number }).$serverTime ?? now() };
      throw error;
    }
  }

  async function write(key: string, etag: string | undefined, record: LeaseRecord<D>, signal?: AbortSignal): Promise<boolean> {
    const result = await putConditional(loc, caps, fullKey(key), etag, JSON.stringify(record), signal ? { signal } : {});
    return result.written;
  }

  return {
    async claim(input, options = {}) {
      const { record, etag, now: t } = await read(input.key, options.signal);
      const free = !record || record.state === 'released' || (record.state === 'held' && record.expiresAt <= t) || (record.state === 'done' && (record.keepUntil ?? 0) <= t);
      // The owner renewing (even just past expiry, if nobody took it over meanwhile) keeps its fence.
      const mine = record?.state === 'held' && record.owner === input.owner;
      if (record && !free && !mine) return { claimed: false, record };
      const fence = mine ? record.fence : (record?.fence ?? 0) + 1;
      const next: LeaseRecord<D> = { key: input.key, owner: input.owner, fence, state: 'held', expiresAt: t + input.leaseMs, ...(input.data === undefined ? {} : { data: input.data }) };
      if (await write(input.key, etag, next, options.signal)) return { claimed: true, fence };
      // Someone else wrote between our read and write: report what holds it now.
      const again = await read(input.key, options.signal);
      return again.record ? { claimed: false, record: again.record } : { claimed: false, record: next };
    },

    async settle(input, options = {}) {
      const { record, etag, now: t } = await read(input.key, options.signal);
      if (!record || record.owner !== input.owner || record.fence !== input.fence || record.state !== 'held') return false;
      const next: LeaseRecord<D> =
        input.data === undefined
          ? { ...record, state: 'released', expiresAt: t }
          : { ...record, state: 'done', expiresAt: t, data: input.data, keepUntil: t + (input.keepMs ?? 0) };
      return write(input.key, etag, next, options.signal);
    },

    async get(key, options = {}) {
      return (await read(key, options.signal)).record;
    },
  };
}
