/**
 * The Redis store's single-key path (`claim` → `CLAIM_ONE`, `settle` → `SETTLE_ONE`, flat
 * replies) and its batch path (`claimMany` / `settleMany` → `CLAIM` / `SETTLE`) are one
 * operation to callers: processes of mixed versions and both APIs share keys (idempotency
 * claims one key, the outbox relay claims many), so for any key state and request both must
 * answer the same and leave the same value and TTL behind.
 *
 * For each generated run: two keys are set to the same raw state (absent; held live; held or
 * done with the lease over but within retain; done live; released; no TTL at all; a foreign
 * string, a string that merely starts with `h|`, a hash, a lease-looking value missing its last
 * `|`), one is claimed with `claim(r)`, the other with `claimMany([r])`; results (errors by
 * class, code and field) and raw GET/TYPE/PTTL are compared; then both are settled, the first
 * with `settle(s)`, the second with `settleMany([s])`, for matching and non-matching
 * owner/fence, with and without data, and compared again.
 *
 * Targets: the shared Redis and Redis Cluster (own key prefix each), a redis-server of this
 * test's own whose script cache is flushed before every call (the `NOSCRIPT` → `EVAL` path on
 * both sides), and a client with ioredis's `stringNumbers: true` (integer replies as strings).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { LeaseRecordUnreadableError, redisLeaseStore, type ClaimRequest, type RedisLeaseStore, type SettleRequest } from '../src/index.js';
import { CLAIM, CLAIM_ONE } from '../src/stores/redis-scripts.js';
import { SETTLE, SETTLE_ONE } from '../src/stores/redis-settle-scripts.js';

/** Times taken from two calls a moment apart (Date.now() in the store, PTTL on the server) may differ by this much. */
const SLACK_MS = 2_000;
const NUM_RUNS = 120;

type Target = 'redis' | 'cluster' | 'own-noscript' | 'string-numbers';

const DATA = fc.oneof(
  fc.constantFrom('', '|', ':', '=', 'a|b:c=d', '=|=:|', 'ünïcødé 🎉', '12:h|1|0|x|', 'h|1|0|o|=x'),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
);
const OWNER = fc.oneof(fc.constantFrom('o1', 'o2', 'a:b=c', '~!{}'), fc.stringMatching(/^[!-{}~]{1,16}$/));
const RETAIN = fc.constantFrom(0, 600_000, 3_600_000);
// Past 10^15 no claim ever gets (a value another program wrote, or a corrupted one): both paths must still agree.
const FENCE = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(2 ** 40, 999_999_999_999_999, 10 ** 15, 2 ** 53 - 2, 2 ** 53, 2 ** 64));

/** What a key holds before the calls. `ttl`: 'live' = the record's time left plus its retain; 'over' = within retain only; 'none' = no TTL. */
type KeyState =
  | { kind: 'absent' }
  | { kind: 'lease'; state: 'h' | 'd' | 'f'; fence: number; retain: number; owner: string; data: string | undefined; ttl: 'live' | 'over' | 'none' }
  | { kind: 'string'; value: string; ttl: boolean }
  | { kind: 'hash' };

// Weighted so every kind of answer counted in `seen` comes up in 120 runs, for certain in practice.
// With equal weights a live record held by someone else came up in ~3.6 % of runs (by the weights),
// so about one CI run in 20 met none on one of the four targets and failed. Weighted, the rarest
// kind (live) came up in 11-22 of 120 runs in 12 measured runs: missing it is about 1 in 10^7.
const KEY_STATE: fc.Arbitrary<KeyState> = fc.oneof(
  fc.constant({ kind: 'absent' as const }),
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant('lease' as const),
    state: fc.constantFrom('h' as const, 'd' as const, 'f' as const),
    fence: FENCE,
    retain: RETAIN,
    owner: OWNER,
    data: fc.option(DATA, { nil: undefined }),
    ttl: fc.oneof({ weight: 2, arbitrary: fc.constant('live' as const) }, fc.constantFrom('over' as const, 'none' as const)),
  }) },
  fc.record({
    kind: fc.constant('string' as const),
    value: fc.oneof(
      fc.constantFrom('hello', 'h|', 'h|x|0|o|', 'h|1|', 'h|1|0|o', 'd|1|0', 'f', '', 'x|1|0|o|', 'h|1|0|o|=', 'H|1|0|o|'),
      fc.string({ unit: 'grapheme', maxLength: 16 }),
      fc.string({ unit: 'grapheme', maxLength: 16 }).map((s) => `h|${s}`),
    ),
    ttl: fc.boolean(),
  }),
  fc.constant({ kind: 'hash' as const }),
);

const CLAIM_REQUEST = fc.record({
  owner: OWNER,
  // Long enough that no record runs out between the two calls compared (a loaded machine included).
  leaseMs: fc.constantFrom(20_000, 30_000, 86_400_000),
  data: fc.option(DATA, { nil: undefined }),
});

/** How the settle request is formed from what the key held and what the claim answered. */
const SETTLE_PLAN = fc.record({
  owner: fc.oneof({ weight: 2, arbitrary: fc.constant('claimer' as const) }, fc.constantFrom('recorded' as const, 'other' as const)),
  fence: fc.oneof({ weight: 2, arbitrary: fc.constant('claimed' as const) }, fc.constantFrom('recorded' as const, 'next' as const, 'one' as const)),
  data: fc.option(DATA, { nil: undefined }),
  keepMs: fc.constantFrom(20_000, 60_000, 86_400_000),
});

/** Writes state `s` to `key`; `ends` is a done record's end (epoch ms), the same for both keys of a run. */
async function writeState(redis: Redis | Cluster, key: string, s: KeyState, ends: number): Promise<void> {
  if (s.kind === 'absent') return;
  if (s.kind === 'hash') {
    await redis.hset(key, 'f', 'v');
    return;
  }
  if (s.kind === 'string') {
    if (s.ttl) await redis.set(key, s.value, 'PX', 600_000);
    else await redis.set(key, s.value);
    return;
  }
  // Done and released values name who settled them; values written before that held a done
  // record's end (digits) there, and nothing for a released one: both still read as records.
  const who = s.state === 'h' ? s.owner : s.state === 'd' ? String(ends) : '';
  const value = `${s.state}|${s.fence}|${s.retain}|${who}|${s.data === undefined || s.state === 'f' ? '' : `=${s.data}`}`;
  if (s.ttl === 'none') await redis.set(key, value);
  // 'over' with retain 0 has no time left: the key is gone, as the server would have it.
  else if (s.ttl === 'over') await (s.retain > 0 ? redis.set(key, value, 'PX', s.retain / 2) : Promise.resolve());
  else await redis.set(key, value, 'PX', 60_000 + s.retain);
}

interface Raw {
  type: string;
  value: string | Record<string, string> | null;
  pttl: number;
}

async function raw(redis: Redis | Cluster, key: string): Promise<Raw> {
  const type = await redis.type(key);
  const value = type === 'string' ? await redis.get(key) : type === 'hash' ? await redis.hgetall(key) : null;
  return { type, value, pttl: Number(await redis.pttl(key)) };
}

/** Two raw keys hold the same thing: equal values, and the TTL within SLACK_MS. */
function expectSameRaw(single: Raw, batch: Raw): void {
  expect(batch.type).toBe(single.type);
  if (single.pttl < 0 || batch.pttl < 0) expect(batch.pttl).toBe(single.pttl);
  else expect(Math.abs(batch.pttl - single.pttl)).toBeLessThanOrEqual(SLACK_MS);
  expect(batch.value).toEqual(single.value);
}

type Outcome = { ok: true; value: unknown; expiresAt?: number } | { ok: false; name: string; code: unknown; field: unknown };

/** A call's answer in comparable form: errors by class, code and field (the batch's `requests[0]` read as `request`). */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = (await call()) as Record<string, unknown> | boolean;
    if (typeof value !== 'object' || value === null) return { ok: true, value };
    const record = value.record as Record<string, unknown> | undefined;
    const expiresAt = (record?.expiresAt ?? value.expiresAt) as number | undefined;
    const strip = <T extends Record<string, unknown>>(o: T): T => {
      const { expiresAt: _, ...rest } = o;
      return rest as T;
    };
    return { ok: true, value: record ? { ...strip(value), record: strip(record) } : strip(value), expiresAt };
  } catch (error) {
    const e = error as { name?: string; code?: unknown; field?: unknown };
    return { ok: false, name: String(e.name), code: e.code, field: typeof e.field === 'string' ? e.field.replace(/^requests\[0\]/, 'request') : e.field };
  }
}

function expectSameOutcome(single: Outcome, batch: Outcome): void {
  if (single.ok && batch.ok && single.expiresAt !== undefined && batch.expiresAt !== undefined) {
    expect(Math.abs(single.expiresAt - batch.expiresAt)).toBeLessThanOrEqual(SLACK_MS);
  }
  expect({ ...batch, expiresAt: undefined }).toEqual({ ...single, expiresAt: undefined });
}

describe.each(['redis', 'cluster', 'own-noscript', 'string-numbers'] as Target[])('claim/settle vs claimMany/settleMany on %s', (target) => {
  let redis: Redis | Cluster;
  let own: (OwnServer & { url: string }) | undefined;
  const prefix = `lease-equiv:${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    if (target === 'own-noscript') {
      own = await startRedis();
      redis = new Redis(own.url, { maxRetriesPerRequest: 2 });
    } else if (target === 'cluster') {
      await requireService('redis-cluster');
      redis = new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
    } else {
      await requireService('redis');
      redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2, stringNumbers: target === 'string-numbers' });
    }
  });
  afterAll(async () => {
    if (redis) {
      if (!own) await dropPrefix(redis, prefix);
      redis.disconnect();
    }
    await own?.dispose();
  });

  /** Before each store call on our own server: the script cache emptied, so EVALSHA answers NOSCRIPT. */
  const flush = async (): Promise<void> => {
    if (own) await (redis as Redis).script('FLUSH');
  };
  /** After a call on our own server: the script it ran is cached again, so it was sent (EVAL after NOSCRIPT). */
  const expectLoaded = async (sha: string): Promise<void> => {
    if (own) expect(await (redis as Redis).script('EXISTS', sha)).toEqual([1]);
  };

  it('answer alike and leave the same records, for any key state and request', async () => {
    let run = 0;
    // What the runs met, so a generator that drifted (every claim refused, no settle matching) fails.
    const seen = { claimed: 0, live: 0, refused: 0, settled: 0, notSettled: 0 };
    await fc.assert(
      fc.asyncProperty(KEY_STATE, CLAIM_REQUEST, SETTLE_PLAN, RETAIN, async (state, claimReq, plan, storeRetain) => {
        run++;
        const store: RedisLeaseStore = redisLeaseStore({ client: redis, prefix, retainMs: storeRetain });
        const a = `${run}:${randomUUID().slice(0, 8)}:single`;
        const b = `${run}:${randomUUID().slice(0, 8)}:batch`;
        const ends = Date.now() + 60_000;
        await writeState(redis, prefix + a, state, ends);
        await writeState(redis, prefix + b, state, ends);

        await flush();
        const one = await outcome(() => store.claim({ key: a, ...claimReq }));
        await expectLoaded(CLAIM_ONE.sha);
        await flush();
        const many = await outcome(async () => (await store.claimMany([{ key: b, ...claimReq }]))[0]);
        await expectLoaded(CLAIM.sha);
        expectSameOutcome(one, many);
        if (!one.ok) seen.refused++;
        else if ((one.value as { claimed: boolean }).claimed) seen.claimed++;
        else seen.live++;
        expectSameRaw(await raw(redis, prefix + a), await raw(redis, prefix + b));

        const claimed = one.ok ? (one.value as { claimed?: boolean; fence?: number }) : undefined;
        const recorded = state.kind === 'lease' ? state : undefined;
        const owner = plan.owner === 'claimer' ? claimReq.owner : plan.owner === 'recorded' && recorded ? recorded.owner : 'someone-else';
        const base = plan.fence === 'claimed' ? claimed?.fence : recorded?.fence;
        const fence = plan.fence === 'one' || base === undefined ? 1 : plan.fence === 'next' ? base + 1 : base;
        const settle = (key: string): SettleRequest => (plan.data === undefined ? { key, owner, fence } : { key, owner, fence, data: plan.data, keepMs: plan.keepMs });

        await flush();
        const s1 = await outcome(() => store.settle(settle(a)));
        if (s1.ok) await expectLoaded(SETTLE_ONE.sha);
        await flush();
        const s2 = await outcome(async () => (await store.settleMany([settle(b)]))[0]);
        if (s2.ok) await expectLoaded(SETTLE.sha);
        expectSameOutcome(s1, s2);
        if (s1.ok && s1.value === true) seen.settled++;
        else seen.notSettled++;
        expectSameRaw(await raw(redis, prefix + a), await raw(redis, prefix + b));
      }),
      { numRuns: NUM_RUNS },
    );
    for (const [what, count] of Object.entries(seen)) expect(count, `${what} (met: ${JSON.stringify(seen)})`).toBeGreaterThan(0);
  });

  it('refuse, on both paths, a record whose fence is past 15 digits, and leave it alone', async () => {
    const store = redisLeaseStore({ client: redis, prefix, retainMs: 0 });
    for (const fence of ['1000000000000000', '9007199254740991', '9007199254740992', '18446744073709551616', '1'.padEnd(400, '0')]) {
      const value = `h|${fence}|0|o|`;
      const a = `big:${randomUUID()}`;
      const b = `big:${randomUUID()}`;
      // No TTL: not live, so a claim would take it over if it counted the fence as ours.
      await redis.set(prefix + a, value);
      await redis.set(prefix + b, value);
      await expect(store.claim({ key: a, owner: 'me', leaseMs: 20_000 })).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
      await expect(store.claimMany([{ key: b, owner: 'me', leaseMs: 20_000 }])).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
      // Past Number.MAX_SAFE_INTEGER no fence of ours: a read refuses it too.
      if (!Number.isSafeInteger(Number(fence))) await expect(store.get(a)).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
      expect([await redis.get(prefix + a), await redis.get(prefix + b)]).toEqual([value, value]);
    }
    // The last fence a claim takes over, on either path; the fence it hands out settles.
    for (const path of ['single', 'batch'] as const) {
      const key = `big:${randomUUID()}`;
      await redis.set(prefix + key, 'h|999999999999999|0|o|');
      const request = { key, owner: 'me', leaseMs: 20_000 };
      const claim = path === 'single' ? await store.claim(request) : (await store.claimMany([request]))[0];
      expect(claim).toMatchObject({ claimed: true, fence: 10 ** 15 });
      expect(await store.settle({ key, owner: 'me', fence: 10 ** 15, data: 'ok', keepMs: 20_000 })).toBe(true);
      expect(await store.get(key)).toMatchObject({ state: 'done', fence: 10 ** 15 + 1, data: 'ok' });
    }
  });

  it('refuse malformed requests with the same LeaseRequestError', async () => {
    const store = redisLeaseStore({ client: redis, prefix });
    const bad: Array<Record<string, unknown>> = [
      { key: '', owner: 'o', leaseMs: 1 },
      { key: 'k\u0000', owner: 'o', leaseMs: 1 },
      { key: 'k', owner: 'a|b', leaseMs: 1 },
      { key: 'k', owner: 'a b', leaseMs: 1 },
      { key: 'k', owner: '', leaseMs: 1 },
      { key: 'k', owner: 'o', leaseMs: 0 },
      { key: 'k', owner: 'o', leaseMs: 1.5 },
      { key: 'k', owner: 'o', leaseMs: Number.NaN },
      { key: 'k', owner: 'o', leaseMs: '1' },
      { key: 'k', owner: 'o', leaseMs: 1, data: '\ud800' },
      { key: 'k', owner: 'o', leaseMs: 1, data: 5 },
    ];
    const badSettles: Array<Record<string, unknown>> = [
      { key: 'k', owner: 'o', fence: 0 },
      { key: 'k', owner: 'o', fence: 1.5 },
      { key: 'k', owner: 'o', fence: 2 ** 53 },
      { key: 'k', owner: 'o|', fence: 1 },
      { key: 'k', owner: 'o', fence: 1, data: 'x' },
      { key: 'k', owner: 'o', fence: 1, data: 'x', keepMs: -1 },
      { key: 'k', owner: 'o', fence: 1, data: '\udc00', keepMs: 1 },
    ];
    for (const r of bad) {
      const single = await outcome(() => store.claim(r as unknown as ClaimRequest));
      const batch = await outcome(() => store.claimMany([r as unknown as ClaimRequest]));
      expect(single).toMatchObject({ ok: false, name: 'LeaseRequestError', code: 'LEASE_REQUEST_INVALID' });
      expectSameOutcome(single, batch);
    }
    for (const r of badSettles) {
      const single = await outcome(() => store.settle(r as unknown as SettleRequest));
      const batch = await outcome(() => store.settleMany([r as unknown as SettleRequest]));
      expect(single).toMatchObject({ ok: false, name: 'LeaseRequestError', code: 'LEASE_REQUEST_INVALID' });
      expectSameOutcome(single, batch);
    }
  });
});
