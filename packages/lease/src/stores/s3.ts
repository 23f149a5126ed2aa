/**
 * The lease store on S3 (and S3-compatible servers with conditional writes): one small JSON
 * object per key. Every change of a key — a claim, a takeover, a renewal, a settle — is a
 * read followed by a conditional PUT: `If-None-Match: *` for a key with no object yet,
 * `If-Match: <the ETag read>` otherwise. Of all who race from the same read, S3 lets one
 * write (the rest get 412), so exactly one attempt holds each generation.
 *
 *   claim / claimMany    GET, then PUT generation n + 1 (held) if the record is absent, released or expired
 *   settle / settleMany  GET, then PUT generation n + 1 (done or released) if the caller holds generation n
 *   renew                GET, then PUT generation n + 1 (held by the caller, a new lease) likewise
 *   get                  GET
 *
 * Expiry is judged by S3's clock (the `Date` header; see `s3-clock.ts`). A 409
 * `ConditionalRequestConflict` (a concurrent conditional write, as AWS documents) reads again.
 *
 * A PUT the SDK resent: the first attempt was applied but its reply was lost (a reset socket,
 * a 5xx after applying), so the retry is refused (412) by the ETag the first attempt changed.
 * The read that follows every refused or conflicting PUT compares the object with the body
 * this call sent: the same bytes (owner token, generation, state, data and expiry to the ms)
 * are its own write, answered as the applied first attempt is — claimed with its fence,
 * settled, renewed with the new fence — not as "held by someone else" (by the caller's own
 * token) or "not settled". Anything else is answered as a refusal, as before.
 * A claim that throws gives back what it may have written: see `claimAll`.
 * The object stays after it stops being live, so fences keep growing for as long as it exists.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
import { awsClientOption, checkKnownKeys, invalidOption, keysOf, s3BucketOption, sleep } from '@steadyfn/handler/internal';
import { LeaseRequestError } from '../errors.js';
import type { ClaimRequest, ClaimResult, LeaseRecord, RenewResult } from '../types.js';
import { checkBatch, checkClaim, checkGetKey, checkRenew, checkSettle } from '../validate.js';
import { putConditional, readObject } from './s3-client.js';
import { DATE_RESOLUTION_MS, serverClock } from './s3-clock.js';
import { probeOnce } from './s3-probe.js';
import { parseLease, recordOf, released, settledAs, type StoredLease } from './s3-record.js';
import type { S3LeaseStore, S3LeaseStoreOptions } from './s3-types.js';
import { typedCall, typedOperations } from './store-unavailable.js';
import { giveBack } from './give-back.js';

export type { S3LeaseClient, S3LeaseStore, S3LeaseStoreOptions } from './s3-types.js';

/** S3's limit on an object key, in bytes of UTF-8. https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html */
const MAX_OBJECT_KEY_BYTES = 1024;

/** Rounds of read + conditional write before a contended key is reported as held (claim) or not changed. */
const MAX_ROUNDS = 4;

/**
 * A lease store on S3 or an S3-compatible server with conditional writes.
 * @throws ConfigurationError (from `@steadyfn/handler`) for bad options.
 * @throws LeaseStoreUnavailableError (`LEASE_STORE_UNAVAILABLE`, 503, retryable) from the store's
 *   calls when the endpoint cannot be reached (a refused, reset or timed-out socket — the HTTP
 *   handler's `TimeoutError` included; the SDK's error is the `cause`), or the start-up probe
 *   found no answer within 10 s. S3's answers pass through unchanged.
 * @throws LeaseStoreUnsupportedError (`LEASE_STORE_UNSUPPORTED`) from every call when the server
 *   has no conditional writes (the probe: a condition ignored, or the header refused with 501 or
 *   a 400 naming it); kept, not probed again.
 * @throws the caller's `signal.reason` when its signal aborts, also mid-request and while the
 *   shared start-up probe runs (which goes on for the other callers).
 * A conditional PUT the SDK resent after its applied first attempt lost its reply (a reset
 * socket, a 5xx) is recognised by its body on the read after the 412, and answered as applied:
 * `claimed` with its fence, settled, `renewed` with the new fence (see the module comment).
 * A `claim` or `claimMany` that throws holds nothing it wrote: each key whose object is exactly a
 * body the call sent is released (the next generation, by `If-Match`) before it throws, for up
 * to 2 s (`claimAll`). A claim finding the key held, live, by its own `owner` answers
 * `claimed: false` with that record, as the MongoDB-wire and memory stores do.
 * @example
 * ```ts
 * // S3Client: from @aws-sdk/client-s3
 * const leases = s3LeaseStore({ client: new S3Client({}), bucket: 'jobs', prefix: 'leases/' });
 * const claim = await leases.claim({ key: 'nightly', owner: crypto.randomUUID(), leaseMs: 120_000 });
 * ```
 */
export function s3LeaseStore(options: S3LeaseStoreOptions): S3LeaseStore {
  if (typeof options !== 'object' || options === null) invalidOption('s3LeaseStore', 'options', 'an object', options);
  checkKnownKeys('s3LeaseStore', '', options, keysOf<S3LeaseStoreOptions>({ client: true, bucket: true, prefix: true }));
  const client = options.client;
  // An SQSClient has a send too: refused by its config.serviceId.
  awsClientOption('s3LeaseStore', 'client', client, 'S3', 'an S3Client (an object with send())');
  // Access points route every object request, the conditional ones (If-None-Match, If-Match)
  // included — but not a Multi-Region Access Point: its buckets each check the condition alone.
  const bucket = s3BucketOption('s3LeaseStore', 'bucket', options.bucket, { accessPoints: true, conditionalWrites: true });
  const prefix = options.prefix ?? 'lease/';
  if (typeof prefix !== 'string') invalidOption('s3LeaseStore', 'prefix', 'a string', prefix);
  const clock = serverClock();
  const objectKey = (key: string): string => prefix + key;
  const room = MAX_OBJECT_KEY_BYTES - Buffer.byteLength(prefix);
  /** A checked key must also fit S3's object key limit with the prefix: refused before anything is sent. */
  const fit = <R extends { key: string }>(request: R, field: string): R => {
    if (Buffer.byteLength(request.key) > room) throw new LeaseRequestError(field, `at most ${Math.max(room, 0)} bytes of UTF-8 (S3 object keys are at most ${MAX_OBJECT_KEY_BYTES} bytes, the prefix included)`);
    return request;
  };

  const probe = (signal: AbortSignal | undefined): Promise<{ conditionalWrites: true }> => probeOnce(client, bucket, prefix, signal);

  /** The record, its ETag, S3's "now" (at most 1 s behind) and when the read was sent (local). */
  const read = async (key: string, signal: AbortSignal | undefined): Promise<{ text: string | undefined; record: StoredLease | undefined; etag: string | undefined; now: number; sentAt: number }> => {
    await probe(signal);
    const found = await readObject(client, bucket, objectKey(key), signal);
    return { text: found.text, record: found.text === undefined ? undefined : parseLease(found.text), etag: found.etag, now: clock.nowOf(found.clock), sentAt: found.clock.sentAt };
  };

  const live = (record: StoredLease | undefined, now: number): LeaseRecord | undefined => recordOf(record, now, clock.toLocal);

  /** A 409 means another conditional write was in progress: give it a moment. */
  const backoff = (round: number, signal: AbortSignal | undefined): Promise<void> => sleep(25 * 2 ** round + Math.random() * 25, signal);

  /**
   * One claim; every body it hands to a PUT is added to `sent` first (a PUT that throws, or is
   * answered after the server applied it, may have written it).
   */
  const claimOne = async (r: ClaimRequest, signal: AbortSignal | undefined, sentBodies: Set<string>): Promise<ClaimResult> => {
    let fence = 0;
    // The last PUT not answered written, and the answer it gets if it was applied (resent by the SDK).
    let sent: { body: string; answer: ClaimResult } | undefined;
    for (let round = 0; ; round++) {
      const { text, record, etag, now, sentAt } = await read(r.key, signal);
      if (sent !== undefined && text === sent.body) return sent.answer;
      if (round === MAX_ROUNDS) break;
      const holder = live(record, now);
      if (holder) return { claimed: false, record: holder };
      fence = (record?.g ?? 0) + 1;
      const next: StoredLease = { v: 1, s: 'h', g: fence, o: r.owner, e: now + DATE_RESOLUTION_MS + r.leaseMs, ...(r.data === undefined ? {} : { d: r.data }) };
      const body = JSON.stringify(next);
      // For the holder, the lease ends leaseMs after it sent the read its claim is based on.
      const answer: ClaimResult = { claimed: true, fence, expiresAt: sentAt + r.leaseMs };
      sentBodies.add(body);
      const outcome = await putConditional(client, bucket, objectKey(r.key), etag, body, signal);
      if (outcome === 'written') return answer;
      sent = { body, answer };
      if (outcome === 'conflict') await backoff(round, signal);
    }
    // Lost every round to other writers: held, by nobody known, for a moment.
    return { claimed: false, record: { state: 'held', fence, owner: '', expiresAt: Date.now() + 1000 } };
  };

  /**
   * Releases `key` if its object is exactly one of `bodies` (a body a failed call sent: its own
   * owner token, generation and expiry to the ms, so nobody else's record): a PUT of the next
   * generation, released, by `If-Match` on the ETag read — the holder's own release. Anything
   * else there (no object, another's record, a later generation) is left alone. Not a
   * conditional DELETE: gofakes3 ignores `If-Match` on DeleteObject, and a delete would restart
   * the key's fences at 1.
   */
  const giveBackKey = async (key: string, bodies: ReadonlySet<string>, signal: AbortSignal): Promise<void> => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { text, record, etag, now } = await read(key, signal);
      if (text === undefined || !bodies.has(text) || record === undefined) return;
      const outcome = await putConditional(client, bucket, objectKey(key), etag, JSON.stringify(released(record.g, record.o, now)), signal);
      // Refused: the object changed since the read (its release resent and applied, a takeover): read again.
      if (outcome === 'written') return;
      if (outcome === 'conflict') await backoff(round, signal);
    }
  };

  /**
   * Claims each request. A call that throws (a PUT's reply lost, the endpoint unreachable, an
   * abort) holds nothing it wrote: every key it sent a PUT for — the ones claimed included — is
   * given back (`giveBackKey`) before the first error is thrown, bounded and without the
   * caller's signal (`give-back.ts`). A claim that failed before sending any PUT gives back nothing.
   */
  const claimAll = async (requests: ClaimRequest[], signal: AbortSignal | undefined): Promise<ClaimResult[]> => {
    const sent = requests.map(() => new Set<string>());
    const outcomes = await Promise.allSettled(requests.map((r, i) => claimOne(r, signal, sent[i]!)));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed === undefined) return outcomes.map((o) => (o as PromiseFulfilledResult<ClaimResult>).value);
    const toGiveBack = requests.map((r, i) => ({ key: r.key, bodies: sent[i]! })).filter((k) => k.bodies.size > 0);
    if (toGiveBack.length > 0) await giveBack((bound) => typedCall('s3', undefined, () => Promise.all(toGiveBack.map((k) => giveBackKey(k.key, k.bodies, bound)))));
    throw failed.reason;
  };

  /** Writes the generation after the caller's, if the caller still holds generation `fence`. */
  const change = async (
    r: { key: string; owner: string; fence: number },
    next: (held: StoredLease, now: number) => StoredLease,
    signal: AbortSignal | undefined,
    already?: (record: StoredLease) => boolean,
  ): Promise<{ g: number; sentAt: number } | undefined> => {
    // The last PUT not answered written, and the answer it gets if it was applied (resent by the SDK).
    let sent: { body: string; answer: { g: number; sentAt: number } } | undefined;
    for (let round = 0; ; round++) {
      const { text, record, etag, now, sentAt } = await read(r.key, signal);
      if (sent !== undefined && text === sent.body) return sent.answer;
      if (round === MAX_ROUNDS) return undefined;
      // The holder of this generation may change it even after its lease ran out, if nobody took over.
      if (!record || record.s !== 'h' || record.g !== r.fence || record.o !== r.owner) {
        // Already what this change writes (a settle sent again after its first send applied): answered as applied, nothing written.
        return record !== undefined && already?.(record) ? { g: record.g, sentAt } : undefined;
      }
      const written = next(record, now);
      const body = JSON.stringify(written);
      const outcome = await putConditional(client, bucket, objectKey(r.key), etag, body, signal);
      if (outcome === 'written') return { g: written.g, sentAt };
      sent = { body, answer: { g: written.g, sentAt } };
      if (outcome === 'conflict') await backoff(round, signal);
    }
  };

  const store: S3LeaseStore = {
    async claim(request, callOptions) {
      const [result] = await claimAll([fit(checkClaim(request), 'request.key')], callOptions?.signal);
      return result!;
    },
    async claimMany(requests, callOptions) {
      const checked = checkBatch(requests, checkClaim).map((r, i) => fit(r, `requests[${i}].key`));
      return claimAll(checked, callOptions?.signal);
    },
    async settle(request, callOptions) {
      const r = fit(checkSettle(request), 'request.key');
      const done = await change(
        r,
        (held, now) =>
          r.data === undefined
            ? released(held.g, r.owner, now)
            : { v: 1, s: 'd', g: held.g + 1, o: r.owner, e: now + DATE_RESOLUTION_MS + r.keepMs!, d: r.data },
        callOptions?.signal,
        (record) => settledAs(r, record),
      );
      return done !== undefined;
    },
    async settleMany(requests, callOptions) {
      const checked = checkBatch(requests, checkSettle).map((r, i) => fit(r, `requests[${i}].key`));
      // Every settle runs to its end before the call answers: one that throws does not leave the
      // others writing after the caller has its error (and perhaps sent them again).
      const outcomes = await Promise.allSettled(checked.map((r) => store.settle(r, callOptions)));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return outcomes.map((o) => (o as PromiseFulfilledResult<boolean>).value);
    },
    async renew(request, callOptions): Promise<RenewResult> {
      const r = fit(checkRenew(request), 'request.key');
      const done = await change(r, (held, now) => ({ ...held, g: held.g + 1, e: now + DATE_RESOLUTION_MS + r.leaseMs }), callOptions?.signal);
      return done ? { renewed: true, fence: done.g, expiresAt: done.sentAt + r.leaseMs } : { renewed: false };
    },
    async get(key, callOptions) {
      const { record, now } = await read(fit({ key: checkGetKey(key) }, 'key').key, callOptions?.signal);
      return live(record, now);
    },
    async probe(callOptions) {
      return probe(callOptions?.signal);
    },
    objectKey,
  };
  // Every call: an endpoint that cannot be reached is a LeaseStoreUnavailableError (store-unavailable.ts).
  return {
    ...typedOperations('s3', store),
    probe: (callOptions) => typedCall('s3', callOptions?.signal, () => store.probe(callOptions)),
    objectKey,
  };
}
